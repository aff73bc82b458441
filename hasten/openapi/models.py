"""The OpenAPI 3.1 document as Pydantic models.

Class and field names are the specification's own (and the ones ``fastapi.openapi.models``
exports), so code that builds or inspects a document with these classes keeps working, and the
order of the fields is the order of the keys in the dumped document. Where a key is a Python
keyword or starts with ``$``, the attribute gets a trailing underscore or a plain word and the
real key becomes its alias: ``in_`` is ``"in"``, ``schema_`` is ``"schema"``, ``ref`` is
``"$ref"``.

Everything but :class:`Reference` and :class:`Discriminator` keeps unknown keys, which is how
``x-…`` specification extensions survive validation.

The JSON Schema object is assembled from one class per vocabulary of JSON Schema 2020-12 (core,
applicators, assertions, annotations) topped by OpenAPI's additions; the vocabulary classes are
private steps of that assembly.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal, TypeAlias, TypeVar

from pydantic import AnyUrl, BaseModel, ConfigDict, Field, GetJsonSchemaHandler
from pydantic_core import core_schema
from typing_extensions import TypedDict
from typing_extensions import deprecated as typing_deprecated

from hasten.logger import logger

__all__ = [
    "XML",
    "APIKey",
    "APIKeyIn",
    "BaseModelWithConfig",
    "Components",
    "Contact",
    "Discriminator",
    "EmailStr",
    "Encoding",
    "Example",
    "ExternalDocumentation",
    "HTTPBase",
    "HTTPBearer",
    "Header",
    "Info",
    "License",
    "Link",
    "MediaType",
    "OAuth2",
    "OAuthFlow",
    "OAuthFlowAuthorizationCode",
    "OAuthFlowClientCredentials",
    "OAuthFlowImplicit",
    "OAuthFlowPassword",
    "OAuthFlows",
    "OpenAPI",
    "OpenIdConnect",
    "Operation",
    "Parameter",
    "ParameterBase",
    "ParameterInType",
    "PathItem",
    "Reference",
    "RequestBody",
    "Response",
    "Schema",
    "SchemaOrBool",
    "SchemaType",
    "SecurityBase",
    "SecurityScheme",
    "SecuritySchemeType",
    "Server",
    "ServerVariable",
    "Tag",
]

_EMAIL_HINT = (
    "email-validator not installed, email fields will be treated as str.\n"
    "To install, run: pip install email-validator"
)

try:
    import email_validator  # noqa: F401
    from pydantic import EmailStr
except ImportError:  # pragma: no cover - depends on the environment

    class EmailStr(str):  # type: ignore[no-redef]
        """A plain string standing in for ``pydantic.EmailStr`` without email-validator."""

        @classmethod
        def _as_str(cls, value: Any, _info: Any = None) -> str:
            logger.warning(_EMAIL_HINT)
            return str(value)

        @classmethod
        def __get_pydantic_core_schema__(
            cls, source: type[Any], handler: Any
        ) -> core_schema.CoreSchema:
            return core_schema.with_info_plain_validator_function(cls._as_str)

        @classmethod
        def __get_pydantic_json_schema__(
            cls, schema: Any, handler: GetJsonSchemaHandler
        ) -> dict[str, Any]:
            return {"type": "string", "format": "email"}


# Shorthands for the optional values that make up most of the specification. Each one is an
# alias of the plain annotation (``_Text`` *is* ``str | None``), so the models validate and
# describe themselves exactly as if it were written out.
_T = TypeVar("_T")
_Text: TypeAlias = str | None
_Flag: TypeAlias = bool | None
_Number: TypeAlias = float | None
_Url: TypeAlias = AnyUrl | None
_Size: TypeAlias = Annotated[int | None, Field(ge=0)]  # a length or count: never negative
_Anything: TypeAlias = Any | None
_Docs: TypeAlias = "ExternalDocumentation | None"
_ServerList: TypeAlias = "list[Server] | None"
_Requirements: TypeAlias = list[dict[str, list[str]]] | None  # security requirement objects
_ByName: TypeAlias = dict[str, _T | "Reference"] | None  # a map whose values may be ``$ref``s


# Base of the document objects: unknown keys (``x-…`` extensions) are kept.
class BaseModelWithConfig(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- Info, servers and small shared objects -----------------------------------------------


class Contact(BaseModelWithConfig):
    name: _Text = None
    url: _Url = None
    email: EmailStr | None = None


class License(BaseModelWithConfig):
    name: str
    identifier: _Text = None
    url: _Url = None


class Info(BaseModelWithConfig):
    title: str
    summary: _Text = None
    description: _Text = None
    termsOfService: _Text = None
    contact: Contact | None = None
    license: License | None = None
    version: str


class ServerVariable(BaseModelWithConfig):
    enum: Annotated[list[str] | None, Field(min_length=1)] = None
    default: str
    description: _Text = None


class Server(BaseModelWithConfig):
    url: AnyUrl | str
    description: _Text = None
    variables: dict[str, ServerVariable] | None = None


# ``{"$ref": "..."}``; closed to other keys.
class Reference(BaseModel):
    ref: str = Field(alias="$ref")


class Discriminator(BaseModel):
    propertyName: str
    mapping: dict[str, str] | None = None


class XML(BaseModelWithConfig):
    name: _Text = None
    namespace: _Text = None
    prefix: _Text = None
    attribute: _Flag = None
    wrapped: _Flag = None


class ExternalDocumentation(BaseModelWithConfig):
    description: _Text = None
    url: AnyUrl


# --- The Schema object: JSON Schema 2020-12 plus OpenAPI's keywords -------------------------

SchemaType = Literal["array", "boolean", "integer", "null", "number", "object", "string"]
"""The names JSON Schema's ``type`` keyword accepts."""

# A sub-schema is a schema object or a boolean (``true`` accepts anything, ``false`` nothing).
_Sub: TypeAlias = "Schema | bool"
_SubOrNone: TypeAlias = "Schema | bool | None"
_SubList: TypeAlias = "list[Schema | bool] | None"
_SubMap: TypeAlias = "dict[str, Schema | bool] | None"


# The ``$``-keywords that identify and link schemas.
class _CoreVocabulary(BaseModelWithConfig):
    schema_: _Text = Field(default=None, alias="$schema")
    vocabulary: _Text = Field(default=None, alias="$vocabulary")
    id: _Text = Field(default=None, alias="$id")
    anchor: _Text = Field(default=None, alias="$anchor")
    dynamicAnchor: _Text = Field(default=None, alias="$dynamicAnchor")
    ref: _Text = Field(default=None, alias="$ref")
    dynamicRef: _Text = Field(default=None, alias="$dynamicRef")
    defs: _SubMap = Field(default=None, alias="$defs")
    comment: _Text = Field(default=None, alias="$comment")


# Keywords that apply sub-schemas: combinators, conditionals, items and properties.
class _ApplicatorVocabulary(_CoreVocabulary):
    allOf: _SubList = None
    anyOf: _SubList = None
    oneOf: _SubList = None
    not_: _SubOrNone = Field(default=None, alias="not")
    if_: _SubOrNone = Field(default=None, alias="if")
    then: _SubOrNone = None
    else_: _SubOrNone = Field(default=None, alias="else")
    dependentSchemas: _SubMap = None
    prefixItems: _SubList = None
    items: _SubOrNone = None
    contains: _SubOrNone = None
    properties: _SubMap = None
    patternProperties: _SubMap = None
    additionalProperties: _SubOrNone = None
    propertyNames: _SubOrNone = None
    unevaluatedItems: _SubOrNone = None
    unevaluatedProperties: _SubOrNone = None


# Structural validation: type, enumerations, numeric bounds, lengths and counts.
class _AssertionVocabulary(_ApplicatorVocabulary):
    type: SchemaType | list[SchemaType] | None = None
    enum: list[Any] | None = None
    const: _Anything = None
    multipleOf: Annotated[float | None, Field(gt=0)] = None
    maximum: _Number = None
    exclusiveMaximum: _Number = None
    minimum: _Number = None
    exclusiveMinimum: _Number = None
    maxLength: _Size = None
    minLength: _Size = None
    pattern: _Text = None
    maxItems: _Size = None
    minItems: _Size = None
    uniqueItems: _Flag = None
    maxContains: _Size = None
    minContains: _Size = None
    maxProperties: _Size = None
    minProperties: _Size = None
    required: list[str] | None = None
    dependentRequired: dict[str, set[str]] | None = None


# ``format``, string-encoded content and the descriptive meta-data keywords.
class _AnnotationVocabulary(_AssertionVocabulary):
    format: _Text = None
    contentEncoding: _Text = None
    contentMediaType: _Text = None
    contentSchema: _SubOrNone = None
    title: _Text = None
    description: _Text = None
    default: _Anything = None
    deprecated: _Flag = None
    readOnly: _Flag = None
    writeOnly: _Flag = None
    examples: list[Any] | None = None


# A JSON Schema 2020-12 object with OpenAPI's keywords; sub-schemas may be booleans.
class Schema(_AnnotationVocabulary):
    discriminator: Discriminator | None = None
    xml: XML | None = None
    externalDocs: _Docs = None
    example: Annotated[
        _Anything,
        typing_deprecated("OpenAPI 3.1 still accepts `example`, but prefer `examples`."),
    ] = None


SchemaOrBool: TypeAlias = Schema | bool


class Example(TypedDict, total=False):
    summary: _Text
    description: _Text
    value: _Anything
    externalValue: _Url

    __pydantic_config__ = {"extra": "allow"}  # type: ignore[misc]


# --- Parameters, bodies and responses -----------------------------------------------------


# Where a parameter is read from (the ``in`` key).
class ParameterInType(Enum):
    query = "query"
    header = "header"
    path = "path"
    cookie = "cookie"


# Where an API key is sent (a parameter location, without ``path``).
class APIKeyIn(Enum):
    query = "query"
    header = "header"
    cookie = "cookie"


class Encoding(BaseModelWithConfig):
    contentType: _Text = None
    headers: _ByName[Header] = None
    style: _Text = None
    explode: _Flag = None
    allowReserved: _Flag = None


class MediaType(BaseModelWithConfig):
    schema_: Schema | Reference | None = Field(default=None, alias="schema")
    example: _Anything = None
    examples: _ByName[Example] = None
    encoding: dict[str, Encoding] | None = None


# What parameters and headers share: the ``schema`` form and the ``content`` form.
class ParameterBase(BaseModelWithConfig):
    description: _Text = None
    required: _Flag = None
    deprecated: _Flag = None
    style: _Text = None
    explode: _Flag = None
    allowReserved: _Flag = None
    schema_: Schema | Reference | None = Field(default=None, alias="schema")
    example: _Anything = None
    examples: _ByName[Example] = None
    content: dict[str, MediaType] | None = None


class Parameter(ParameterBase):
    name: str
    in_: ParameterInType = Field(alias="in")


# A response or encoding header: a parameter without ``name`` and ``in``.
class Header(ParameterBase):
    pass


class RequestBody(BaseModelWithConfig):
    description: _Text = None
    content: dict[str, MediaType]
    required: _Flag = None


class Link(BaseModelWithConfig):
    operationRef: _Text = None
    operationId: _Text = None
    parameters: dict[str, Any | str] | None = None
    requestBody: Any | str | None = None
    description: _Text = None
    server: Server | None = None


class Response(BaseModelWithConfig):
    description: str
    headers: _ByName[Header] = None
    content: dict[str, MediaType] | None = None
    links: _ByName[Link] = None


class Operation(BaseModelWithConfig):
    tags: list[str] | None = None
    summary: _Text = None
    description: _Text = None
    externalDocs: _Docs = None
    operationId: _Text = None
    parameters: list[Parameter | Reference] | None = None
    requestBody: RequestBody | Reference | None = None
    # values may be specification extensions, hence ``Any``
    responses: dict[str, Response | Any] | None = None
    callbacks: _ByName[dict[str, PathItem]] = None
    deprecated: _Flag = None
    security: _Requirements = None
    servers: _ServerList = None


_Op: TypeAlias = "Operation | None"


# The operations of one path, one attribute per HTTP method.
class PathItem(BaseModelWithConfig):
    ref: _Text = Field(default=None, alias="$ref")
    summary: _Text = None
    description: _Text = None
    get: _Op = None
    put: _Op = None
    post: _Op = None
    delete: _Op = None
    options: _Op = None
    head: _Op = None
    patch: _Op = None
    trace: _Op = None
    servers: _ServerList = None
    parameters: list[Parameter | Reference] | None = None


# --- The document --------------------------------------------------------------------------


# Reusable objects, each kind in its own map by name.
class Components(BaseModelWithConfig):
    schemas: _ByName[Schema] = None
    responses: _ByName[Response] = None
    parameters: _ByName[Parameter] = None
    examples: _ByName[Example] = None
    requestBodies: _ByName[RequestBody] = None
    headers: _ByName[Header] = None
    securitySchemes: _ByName[SecurityScheme] = None
    links: _ByName[Link] = None
    # values may be specification extensions, hence ``Any``
    callbacks: dict[str, dict[str, PathItem] | Reference | Any] | None = None
    pathItems: _ByName[PathItem] = None


class Tag(BaseModelWithConfig):
    name: str
    description: _Text = None
    externalDocs: _Docs = None


# The root of the document; ``app.openapi()`` validates its output through this model.
class OpenAPI(BaseModelWithConfig):
    openapi: str
    info: Info
    jsonSchemaDialect: _Text = None
    servers: _ServerList = None
    # values may be specification extensions, hence ``Any``
    paths: dict[str, PathItem | Any] | None = None
    webhooks: _ByName[PathItem] = None
    components: Components | None = None
    security: _Requirements = None
    tags: list[Tag] | None = None
    externalDocs: _Docs = None


# --- Security schemes ----------------------------------------------------------------------


# The ``type`` of a security scheme.
class SecuritySchemeType(Enum):
    apiKey = "apiKey"
    http = "http"
    oauth2 = "oauth2"
    openIdConnect = "openIdConnect"


# A security scheme; each subclass fixes the default of ``type``.
class SecurityBase(BaseModelWithConfig):
    type_: SecuritySchemeType = Field(alias="type")
    description: _Text = None


class HTTPBase(SecurityBase):
    type_: SecuritySchemeType = Field(default=SecuritySchemeType.http, alias="type")
    scheme: str


class HTTPBearer(HTTPBase):
    scheme: Literal["bearer"] = "bearer"
    bearerFormat: _Text = None


class OpenIdConnect(SecurityBase):
    type_: SecuritySchemeType = Field(default=SecuritySchemeType.openIdConnect, alias="type")
    openIdConnectUrl: str


class OAuth2(SecurityBase):
    type_: SecuritySchemeType = Field(default=SecuritySchemeType.oauth2, alias="type")
    flows: OAuthFlows


class APIKey(SecurityBase):
    type_: SecuritySchemeType = Field(default=SecuritySchemeType.apiKey, alias="type")
    in_: APIKeyIn = Field(alias="in")
    name: str


# What every OAuth2 flow has. The flows differ in the endpoints of the authorization server they
# use, so they are grouped by that: the authorization endpoint (implicit, authorization code)
# and the token endpoint alone (password, client credentials).
class OAuthFlow(BaseModelWithConfig):
    refreshUrl: _Text = None
    scopes: dict[str, str] = {}


class _AuthorizationEndpointFlow(OAuthFlow):
    authorizationUrl: str


class OAuthFlowImplicit(_AuthorizationEndpointFlow):
    """The browser gets the token straight from the authorization endpoint."""


class OAuthFlowAuthorizationCode(_AuthorizationEndpointFlow):
    """A code from the authorization endpoint is traded for a token."""

    tokenUrl: str


class _TokenEndpointFlow(OAuthFlow):
    tokenUrl: str


class OAuthFlowPassword(_TokenEndpointFlow):
    """The client trades a username and password for a token."""


class OAuthFlowClientCredentials(_TokenEndpointFlow):
    """The client trades its own credentials for a token."""


class OAuthFlows(BaseModelWithConfig):
    implicit: OAuthFlowImplicit | None = None
    password: OAuthFlowPassword | None = None
    clientCredentials: OAuthFlowClientCredentials | None = None
    authorizationCode: OAuthFlowAuthorizationCode | None = None


SecurityScheme: TypeAlias = APIKey | HTTPBase | OAuth2 | OpenIdConnect | HTTPBearer


# The forward references (``Schema`` inside its own vocabularies, ``Header`` in ``Encoding``,
# ``PathItem`` in callbacks, ``OAuthFlows`` in ``OAuth2``) can only be resolved now that every class exists.
for _model in (Schema, Encoding, MediaType, Operation, PathItem, OAuth2, Components, OpenAPI):
    _model.model_rebuild()
del _model
