"""Security schemes: use them as dependencies; they also describe themselves in OpenAPI."""

from hasten.security.api_key import APIKeyCookie as APIKeyCookie
from hasten.security.api_key import APIKeyHeader as APIKeyHeader
from hasten.security.api_key import APIKeyQuery as APIKeyQuery
from hasten.security.http import HTTPAuthorizationCredentials as HTTPAuthorizationCredentials
from hasten.security.http import HTTPBasic as HTTPBasic
from hasten.security.http import HTTPBasicCredentials as HTTPBasicCredentials
from hasten.security.http import HTTPBearer as HTTPBearer
from hasten.security.http import HTTPDigest as HTTPDigest
from hasten.security.oauth2 import OAuth2 as OAuth2
from hasten.security.oauth2 import OAuth2AuthorizationCodeBearer as OAuth2AuthorizationCodeBearer
from hasten.security.oauth2 import OAuth2PasswordBearer as OAuth2PasswordBearer
from hasten.security.oauth2 import OAuth2PasswordRequestForm as OAuth2PasswordRequestForm
from hasten.security.oauth2 import (
    OAuth2PasswordRequestFormStrict as OAuth2PasswordRequestFormStrict,
)
from hasten.security.oauth2 import SecurityScopes as SecurityScopes
from hasten.security.open_id_connect_url import OpenIdConnect as OpenIdConnect

__all__ = [
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "OpenIdConnect",
    "SecurityScopes",
]
