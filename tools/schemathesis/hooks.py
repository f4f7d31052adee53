"""Hooks of tools/schemathesis/run (loaded through SCHEMATHESIS_HOOKS): where the OpenAPI
document cannot describe a value, the run sends the value the document names for it.

One field needs it: `policies.scoring_model_json` of PUT /v1/leadPolicies is a JSON document
inside a string (the scoring model, docs/api.md). JSON Schema can only annotate such a string
(`contentMediaType`), so a generated string is almost never a scoring model and the server
rightly refuses it as invalid input. The hook gives such a string the document's "keep the
current model" value, empty text. A value that already breaks the document (a control
character) is left as generated, so negative cases stay negative.
"""

import re

import schemathesis

# The text rule of the field (multi-line text: no control characters but tab, LF and CR).
_TEXT = re.compile("^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$")


@schemathesis.hook("map_body").apply_to(method="PUT", path="/v1/leadPolicies")
def keep_the_scoring_model(context, body):
    policies = body.get("policies") if isinstance(body, dict) else None
    if isinstance(policies, dict):
        model = policies.get("scoring_model_json")
        if isinstance(model, str) and _TEXT.match(model):
            policies["scoring_model_json"] = ""
    return body
