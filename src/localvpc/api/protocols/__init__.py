"""AWS wire protocols (ec2, query, json, rest-json, rest-xml) driven by botocore's service models.
This package imports only botocore and the standard library; services plug in through providers.
"""

from localvpc.api.protocols.parsers import parse_request
from localvpc.api.protocols.request import (
    Headers,
    HttpRequest,
    HttpResponse,
    ServiceError,
    missing_parameter,
    unknown_operation,
    validation_error,
)
from localvpc.api.protocols.serializers import serialize_error, serialize_response
from localvpc.api.protocols.specs import (
    SUPPORTED_SERVICES,
    ServiceTarget,
    load_service_model,
    resolve_service,
)

__all__ = [
    "SUPPORTED_SERVICES",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "ServiceError",
    "ServiceTarget",
    "load_service_model",
    "missing_parameter",
    "parse_request",
    "resolve_service",
    "serialize_error",
    "serialize_response",
    "unknown_operation",
    "validation_error",
]
