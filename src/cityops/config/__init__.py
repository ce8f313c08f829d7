"""A municipality's configuration as YAML: schema, validation with file/line/field errors, loading.

See docs/CONFIG.md for the format.
"""

from cityops.config.errors import ConfigError, ConfigIssue
from cityops.config.loader import load_config, load_config_text

__all__ = ["ConfigError", "ConfigIssue", "load_config", "load_config_text"]
