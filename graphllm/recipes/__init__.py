"""Named experiment configurations, one YAML file per method (`graphllm train --recipe NAME`)."""
