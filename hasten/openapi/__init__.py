"""OpenAPI: the document models, the generator (``get_openapi``) and the docs pages."""
