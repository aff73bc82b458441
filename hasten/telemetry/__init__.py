"""Native OpenTelemetry: ``FastAPI(telemetry={...})`` traces, measures and logs requests.

Spans, metrics and log records go to the providers in the configuration, else to the global
ones once something (the application, an SDK distro, Logfire, Sentry) configures them. Nothing
is recorded, and requests take the plain path, while no provider is configured.
"""

from ._api import TelemetryConfig as TelemetryConfig
from ._api import TelemetryData as TelemetryData
from ._api import get_telemetry_data as get_telemetry_data

__all__ = ["TelemetryConfig", "TelemetryData", "get_telemetry_data"]
