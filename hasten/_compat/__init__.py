"""Small Pydantic v2 shims under FastAPI's ``fastapi._compat`` names (tests and plugins use them)."""

from hasten._compat import shared as shared
from hasten._compat import v2 as v2
from hasten._compat.shared import PYDANTIC_VERSION_MINOR_TUPLE as PYDANTIC_VERSION_MINOR_TUPLE
from hasten._compat.shared import annotation_is_pydantic_v1 as annotation_is_pydantic_v1
from hasten._compat.shared import field_annotation_is_scalar as field_annotation_is_scalar
from hasten._compat.shared import (
    field_annotation_is_scalar_sequence as field_annotation_is_scalar_sequence,
)
from hasten._compat.shared import field_annotation_is_sequence as field_annotation_is_sequence
from hasten._compat.shared import (
    is_bytes_or_nonable_bytes_annotation as is_bytes_or_nonable_bytes_annotation,
)
from hasten._compat.shared import is_bytes_sequence_annotation as is_bytes_sequence_annotation
from hasten._compat.shared import is_pydantic_v1_model_instance as is_pydantic_v1_model_instance
from hasten._compat.shared import (
    is_uploadfile_or_nonable_uploadfile_annotation as is_uploadfile_or_nonable_uploadfile_annotation,
)
from hasten._compat.shared import (
    is_uploadfile_sequence_annotation as is_uploadfile_sequence_annotation,
)
from hasten._compat.shared import lenient_issubclass as lenient_issubclass
from hasten._compat.shared import sequence_types as sequence_types
from hasten._compat.shared import value_is_sequence as value_is_sequence
from hasten._compat.v2 import ModelField as ModelField
from hasten._compat.v2 import PydanticSchemaGenerationError as PydanticSchemaGenerationError
from hasten._compat.v2 import RequiredParam as RequiredParam
from hasten._compat.v2 import Undefined as Undefined
from hasten._compat.v2 import Url as Url
from hasten._compat.v2 import get_cached_model_fields as get_cached_model_fields
from hasten._compat.v2 import get_definitions as get_definitions
from hasten._compat.v2 import get_flat_models_from_fields as get_flat_models_from_fields
from hasten._compat.v2 import get_missing_field_error as get_missing_field_error
from hasten._compat.v2 import get_model_name_map as get_model_name_map
from hasten._compat.v2 import serialize_sequence_value as serialize_sequence_value
from hasten._compat.v2 import (
    with_info_plain_validator_function as with_info_plain_validator_function,
)
