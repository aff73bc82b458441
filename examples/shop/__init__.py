"""The reference shop: products, users, orders on Hasten (see ``examples/shop/README.md``)."""
