"""Writes docs/openapi.yaml (the source) as JSON to the path given (make openapi / openapi-check)."""
import json
import sys

import yaml

with open("docs/openapi.yaml", encoding="utf-8") as source:
    document = yaml.safe_load(source)
with open(sys.argv[1], "w", encoding="utf-8") as target:
    json.dump(document, target, ensure_ascii=False, indent=1, sort_keys=False)
    target.write("\n")
