"""The engine: routes are analysed once into immutable plans, requests only run the plans."""
