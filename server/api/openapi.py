"""The OpenAPI 3.1 document of the API, served at /api/v1/openapi.json.

It is built here in Python rather than kept as a JSON file so the enums (statuses, outcomes,
preferential reasons, placements, roles) come from the code that enforces them. The response
schemas are strict (every property required, nulls spelled out, no extra properties), and
tests/server/test_openapi.py checks real responses against them and checks that every route
in the URL map is documented.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from printers.devices import PrinterStatus
from server.api import bp
from server.api.auth import ANY, ISSUERS, STAFF
from server.api.tickets import IDEMPOTENCY_KEY, TICKET_ID_MAX
from server.config_types import PrinterKind, TransferPlacement
from server.domain.receipt_folio import PATTERN as FOLIO_PATTERN
from server.domain.tickets import Outcome, TicketStatus
from server.models.catalog import COUNTER_STATES
from server.models.receipt import RECEIPT_STATUSES
from server.services.issuing import PREFERENTIAL_REASONS
from server.services.receipts import MAX_UPLOAD_BYTES

Schema = dict[str, Any]

API_ROOT = "/api/v1"


@bp.get("/openapi.json")
def openapi_document():
    """This document; public, like the catalog."""
    return document()


@cache
def document() -> dict[str, Any]:
    """The whole OpenAPI document; built once, never mutated."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Turnos API",
            "version": "1",
            "summary": "Tickets, counters and queues of one CSA.",
            "description": (
                "Kiosks issue tickets, counters call and serve them, screens read the queues. "
                "Every failure is JSON `{\"error\": {\"code\", \"message\"}}`; `code` is "
                "stable, `message` is for people. Times are UTC ISO 8601 ending in `Z`."
            ),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": API_ROOT}],
        "security": [{"bearer": []}],
        "tags": [
            {"name": "tickets", "description": "Issuing tickets and what counters do to them."},
            {"name": "catalog", "description": "Public, read-only facts about the CSA."},
            {"name": "printers", "description": "Ticket printers and their print jobs."},
            {"name": "counters", "description": "Counters opening, pausing and closing."},
            {"name": "receipts", "description": "Citizens' signed receipts, checked by anyone."},
        ],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token created with `turnos token create NAME ROLE`.",
                },
            },
            "parameters": _parameters(),
            "schemas": _schemas(),
        },
    }


# --- paths ------------------------------------------------------------------------------------

def _paths() -> dict[str, Any]:
    ticket = {"parameters": [_ref_param("TicketId")]}
    counter = {"parameters": [_ref_param("CounterId")]}
    return {
        "/tickets": {"post": _operation(
            "issueTicket", "Issue the next ticket of a service.",
            "Replaying a request with the same Idempotency-Key and body returns the same "
            "ticket (again with 201); the same key with another body is refused.",
            roles=ISSUERS, tag="tickets",
            parameters=[_ref_param("IdempotencyKey")],
            body=("IssueRequest", True),
            ok={"201": _json("The ticket.", "Ticket")},
            errors=_merge(_BODY_ERRORS, {
                400: ["idempotency_key_required"],
                404: ["unknown_service"],
                422: ["missing_field", "invalid_field", "invalid_preferential",
                      "preferential_not_offered", "idempotency_key_reused"],
            }),
        )},
        "/tickets/{ticket_id}": {**ticket, "get": _operation(
            "getTicket", "Read one ticket.", None, roles=ANY, tag="tickets",
            ok={"200": _json("The ticket.", "Ticket")},
            errors={404: ["not_found"]},
        )},
        "/counters/{counter_id}/call-next": {**counter, "post": _operation(
            "callNext", "Call the ticket the queue policy picks for this counter.",
            "The counter must be open and hold no called or serving ticket.",
            roles=STAFF, tag="tickets", body=("EmptyBody", False),
            ok={"200": _json("The called ticket.", "Ticket"),
                "204": {"description": "Nobody is waiting for this counter."}},
            errors=_merge(_BODY_ERRORS, {
                404: ["unknown_counter"], 409: ["counter_closed", "counter_busy"],
            }),
        )},
        "/counters/{counter_id}/open": {**counter, "post": _counter_change(
            "openCounter", "Open the counter: it takes tickets again.")},
        "/counters/{counter_id}/pause": {**counter, "post": _counter_change(
            "pauseCounter", "Pause the counter for a break: it takes no new tickets.")},
        "/counters/{counter_id}/close": {**counter, "post": _counter_change(
            "closeCounter", "Close the counter: it takes no new tickets.")},
        "/counters/{counter_id}/day": {**counter, "get": _operation(
            "counterDay", "What this counter has done today.", None,
            roles=STAFF, tag="counters",
            ok={"200": _json("Today's figures of the counter.", "CounterDay")},
            errors={404: ["unknown_counter"]},
        )},
        "/counters/{counter_id}/call": {**counter, "post": _operation(
            "callNumber", "Call one waiting ticket of today by its number.",
            "Staff may type the number loosely: `A-042`, `a42` and `A 42` are the same.",
            roles=STAFF, tag="tickets", body=("CallRequest", True),
            ok={"200": _json("The called ticket.", "Ticket")},
            errors=_merge(_BODY_ERRORS, {
                403: ["not_served_here"],
                404: ["unknown_counter", "not_found"],
                409: ["counter_closed", "counter_busy", "illegal_transition"],
                422: ["missing_field", "invalid_field", "bad_number"],
            }),
        )},
        "/tickets/{ticket_id}/recall": {**ticket, "post": _action(
            "recallTicket", "Announce a called ticket again.",
            "Recalling a ticket that was already recalled `rules.max_recalls` times marks it "
            "as a no-show instead.",
        )},
        "/tickets/{ticket_id}/start": {**ticket, "post": _action(
            "startTicket", "The citizen reached the counter: service begins.", None,
        )},
        "/tickets/{ticket_id}/complete": {**ticket, "post": _action(
            "completeTicket", "Finish service with an outcome (default resolved).", None,
            body="CompleteRequest", extra={422: ["invalid_field"]},
        )},
        "/tickets/{ticket_id}/no-show": {**ticket, "post": _action(
            "markNoShow", "The citizen did not come when called.",
            "Allowed once the ticket was recalled `rules.no_show_after_recalls` times.",
            extra={409: ["no_show_too_early"]},
        )},
        "/tickets/{ticket_id}/cancel": {**ticket, "post": _action(
            "cancelTicket", "Withdraw a waiting, called or serving ticket.", None,
            body="CancelRequest", extra={422: ["invalid_field"]},
        )},
        "/tickets/{ticket_id}/transfer": {**ticket, "post": _action(
            "transferTicket", "Send a called or serving ticket to another queue or counter.",
            "The ticket waits again: in the queue of `service` (default: its own), or for "
            "`counter` alone. `placement` defaults to `rules.transfer_placement`.",
            body="TransferRequest",
            extra={404: ["unknown_counter"], 422: ["invalid_field", "no_target"]},
        )},
        "/services": {"get": _public(
            "listServices", "Services a citizen can pick, in config order.", "ServiceList")},
        "/counters": {"get": _public(
            "listCounters", "Counters, their state and the ticket each one holds.",
            "CounterList")},
        "/queues": {"get": _public(
            "listQueues", "Today's waiting count and oldest wait of every service.",
            "QueueList")},
        "/printers": {"get": _operation(
            "listPrinters", "Ticket printers: what each last reported, and its jobs.",
            "For managers' dashboards. A printer out of paper or offline keeps its jobs "
            "queued and retried until `printing.give_up_after_minutes`; the tickets "
            "themselves are issued and shown on the kiosk screen regardless.",
            roles=STAFF, tag="printers",
            ok={"200": _json("The printers, in config order.", "PrinterList")},
            errors={},
        )},
        **_receipt_paths(),
        "/openapi.json": {"get": _public(
            "getOpenApi", "This document.", None)},
        "/healthz": {
            "servers": [{"url": "/"}],
            "get": _public("healthCheck", "The server is up and its database answers.",
                           "Health"),
        },
    }


def _receipt_paths() -> dict[str, Any]:
    """Public: a folio is an unguessable 80-bit secret, and a PDF speaks for itself."""
    folio = {"name": "folio", "in": "path", "required": True,
             "description": "The receipt folio, as printed (dashes and case do not matter).",
             "schema": {"type": "string", "minLength": 1, "examples": ["R7K2-9QXM-4TPD-H3WN"]}}
    upload = {"type": "object", "required": ["file"],
              "properties": {"file": {"type": "string", "contentMediaType": "application/pdf"}}}
    return {
        "/receipts/{folio}": {"parameters": [folio], "get": {
            "operationId": "getReceipt", "summary": "A receipt: its state, contents and signer.",
            "description": "`status` is `valid` when the stored PDF's signature verifies and "
                           "the file still has its recorded SHA-256; `pending` while it is "
                           "being signed; `expired` once the retention period deleted it "
                           "(contents are then no longer shown). Public.",
            "tags": ["receipts"], "security": [],
            "responses": {"200": _json("The receipt.", "Receipt"),
                          "404": _error(404, ["not_found"])},
        }},
        "/receipts/verify": {"post": {
            "operationId": "verifyReceiptPdf", "summary": "Check an uploaded receipt PDF.",
            "description": "The signature is verified against the CSA's trust roots; when the "
                           "PDF names a receipt folio, `stored` compares it with the file this "
                           "server keeps under that folio. Send multipart/form-data (field "
                           "`file`) or an application/pdf body, at most "
                           f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB. Public.",
            "tags": ["receipts"], "security": [],
            "requestBody": {"required": True, "content": {
                "multipart/form-data": {"schema": upload},
                "application/pdf": {"schema": {"type": "string",
                                               "contentMediaType": "application/pdf"}},
            }},
            "responses": {"200": _json("The verdict.", "ReceiptCheck"),
                          "413": _error(413, ["too_large"]),
                          "415": _error(415, ["unsupported_media_type"]),
                          "422": _error(422, ["missing_file", "empty_file"])},
        }},
    }


def _action(operation_id: str, summary: str, description: str | None, *,
            body: str = "EmptyBody", extra: dict[int, list[str]] | None = None) -> Schema:
    """A counter action on one ticket: staff only, answers with the ticket."""
    return _operation(
        operation_id, summary, description, roles=STAFF, tag="tickets", body=(body, False),
        ok={"200": _json("The ticket after the action.", "Ticket")},
        errors=_merge(_BODY_ERRORS, {404: ["not_found"], 409: ["illegal_transition"]},
                      extra or {}),
    )


def _counter_change(operation_id: str, summary: str) -> Schema:
    """Open, pause or close: staff only, answers with the counter. A ticket the counter holds
    stays with it; open counters are what the kiosk's wait estimates count."""
    return _operation(
        operation_id, summary, None, roles=STAFF, tag="counters",
        body=("CounterChangeRequest", False),
        ok={"200": _json("The counter after the change.", "Counter")},
        errors=_merge(_BODY_ERRORS, {404: ["unknown_counter"], 422: ["invalid_field"]}),
    )


def _public(operation_id: str, summary: str, schema: str | None) -> Schema:
    ok = (_json(summary, schema) if schema
          else {"description": summary,
                "content": {"application/json": {"schema": {"type": "object"}}}})
    return {"operationId": operation_id, "summary": summary, "tags": ["catalog"],
            "security": [], "responses": {"200": ok}}


def _operation(operation_id: str, summary: str, description: str | None, *,
               roles: tuple[str, ...], tag: str, ok: dict[str, Any],
               errors: dict[int, list[str]], parameters: list[Schema] | None = None,
               body: tuple[str, bool] | None = None) -> Schema:
    roles_text = f"Roles: {', '.join(roles)}."
    errors = _merge({401: ["unauthorized"], 403: ["forbidden"]} if set(roles) != set(ANY)
                    else {401: ["unauthorized"]}, errors)
    operation: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "description": f"{description} {roles_text}" if description else roles_text,
        "tags": [tag],
        "x-roles": list(roles),
    }
    if parameters:
        operation["parameters"] = parameters
    if body:
        name, required = body
        operation["requestBody"] = {
            "required": required,
            "content": {"application/json": {"schema": _ref(name)}},
        }
    operation["responses"] = {
        **ok, **{str(status): _error(status, codes) for status, codes in sorted(errors.items())}
    }
    return operation


# JSON bodies: a non-JSON content type, a body that is not a JSON object, an unknown field.
_BODY_ERRORS = {400: ["invalid_json"], 415: ["unsupported_media_type"], 422: ["unknown_field"]}

_ERROR_TITLES = {
    400: "The request is malformed.",
    401: "No valid bearer token.",
    403: "This caller may not do this.",
    404: "Not found.",
    413: "The upload is too large.",
    409: "The ticket or counter is not in a state that allows this.",
    415: "The body is not application/json.",
    422: "A field is missing, unknown or invalid.",
}


def _error(status: int, codes: list[str]) -> Schema:
    """An error response whose `code` is one of `codes`."""
    return {
        "description": f"{_ERROR_TITLES[status]} Codes: {', '.join(codes)}.",
        "content": {"application/json": {"schema": {"allOf": [
            _ref("Error"),
            {"properties": {"error": {"properties": {"code": {"enum": codes}}}}},
        ]}}},
    }


def _merge(*maps: dict[int, list[str]]) -> dict[int, list[str]]:
    merged: dict[int, list[str]] = {}
    for errors in maps:
        for status, codes in errors.items():
            merged.setdefault(status, [])
            merged[status] += [c for c in codes if c not in merged[status]]
    return merged


def _json(description: str, schema: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _ref_param(name: str) -> Schema:
    return {"$ref": f"#/components/parameters/{name}"}


# --- components -------------------------------------------------------------------------------

def _parameters() -> dict[str, Any]:
    return {
        "TicketId": {
            "name": "ticket_id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": TICKET_ID_MAX},
        },
        "CounterId": {
            "name": "counter_id", "in": "path", "required": True,
            "description": "A counter id from config.toml, such as V17.",
            "schema": {"type": "string", "minLength": 1},
        },
        "IdempotencyKey": {
            "name": "Idempotency-Key", "in": "header", "required": True,
            "description": "Chosen by the client per ticket; resending it after a timeout "
                           "returns the ticket already issued instead of a second one.",
            "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY.pattern},
        },
    }


def _schemas() -> dict[str, Any]:
    text = {"type": "string"}
    count = {"type": "integer", "minimum": 0}
    moment = {"type": "string", "format": "date-time"}
    reasons = list(PREFERENTIAL_REASONS)
    return {
        "Ticket": _object(
            id={"type": "integer", "minimum": 1},
            number={"type": "string", "pattern": "^[A-Z]{1,2}-[0-9]{3,}$",
                    "examples": ["A-042"]},
            service=text, service_name=text, agency=text,
            status={"type": "string", "enum": [s.value for s in TicketStatus]},
            preferential={"type": "boolean"},
            preferential_reason=_nullable_enum(reasons),
            issued_at=moment,
            called_at=_nullable(moment), started_at=_nullable(moment),
            finished_at=_nullable(moment),
            counter=_nullable(text), counter_name=_nullable(text),
            target_counter=_nullable({**text, "description": "Set while a ticket transferred "
                                      "to one counter waits for it."}),
            recall_count=count,
            outcome=_nullable_enum([o.value for o in Outcome]),
            folio=_nullable(text),
            position=_nullable({"type": "integer", "minimum": 1, "description":
                                "1-based place in line; null unless waiting."}),
            follow_url={"type": "string", "format": "uri",
                        "description": "Page where the citizen follows the ticket."},
        ),
        "Service": _object(
            code=text, prefix={"type": "string", "pattern": "^[A-Z]{1,2}$"}, name=text,
            name_en=_nullable(text), agency=text, agency_name=text,
            target_wait_minutes={"type": "integer", "minimum": 1},
            preferential={"type": "boolean",
                          "description": "Whether preferential tickets can be issued."},
        ),
        "Counter": _object(
            id=text, name=text, agency=text, services={"type": "array", "items": text},
            state={"type": "string", "enum": list(COUNTER_STATES)},
            current_ticket=_nullable({**text, "description":
                                      "Number of the ticket it is calling or serving."}),
            current_ticket_id=_nullable({**count, "description":
                                         "Id of the ticket it is calling or serving."}),
        ),
        "QueueStats": _object(
            service=text, waiting=count, waiting_preferential=count,
            oldest_wait_seconds=_nullable(count),
        ),
        "Printer": _object(
            id=text,
            kind={"type": "string", "enum": [k.value for k in PrinterKind]},
            status={"type": "string", "enum": [s.value for s in PrinterStatus],
                    "description": "What the printer last reported; `unknown` when it does "
                                   "not answer status requests or was not checked yet."},
            message=_nullable(text),
            checked_at=_nullable(moment),
            queued_jobs={**count, "description": "Jobs waiting to print or printing now."},
            failed_jobs={**count, "description": "Jobs given up on since the CSA-local day "
                                                 "began (with `on_give_up = \"keep\"`)."},
        ),
        "PrinterList": _object(printers=_array("Printer")),
        "ServiceList": _object(services=_array("Service")),
        "CounterList": _object(counters=_array("Counter")),
        "QueueList": _object(queues=_array("QueueStats")),
        "Health": _object(status={"const": "ok"}, csa=text),
        "Error": _object(error=_object(code={"type": "string", "pattern": "^[a-z_]+$"},
                                       message=text)),
        "IssueRequest": _object(
            required=["service"],
            service={"type": "string", "minLength": 1, "maxLength": 40},
            preferential={"type": ["string", "boolean", "null"],
                          "enum": [*reasons, False, None],
                          "description": "Why preferential attention applies; "
                                         "false or null (or absent) for a regular ticket."},
        ),
        "CallRequest": _object(number={"type": "string", "minLength": 1, "maxLength": 12,
                                       "examples": ["A-042"]}),
        "CompleteRequest": _object(
            required=[],
            outcome={"type": "string", "enum": [o.value for o in Outcome]},
            folio=_text(60), note=_text(2000),
        ),
        "CancelRequest": _object(required=[], reason=_text(500)),
        "CounterChangeRequest": _object(required=[], reason=_text(200)),
        "CounterDay": _object(
            counter=text, served=count, no_shows=count,
            average_service_seconds=_nullable(count),
        ),
        "TransferRequest": {
            **_object(required=[], service=_text(40), counter=_text(40),
                      placement={"type": "string", "enum": [p.value for p in TransferPlacement]},
                      reason=_text(500)),
            "anyOf": [{"required": ["service"]}, {"required": ["counter"]}],
        },
        **_receipt_schemas(),
        "EmptyBody": {"type": "object", "additionalProperties": False,
                      "description": "No body, or an empty JSON object."},
    }


def _receipt_schemas() -> dict[str, Any]:
    text = {"type": "string"}
    moment = {"type": "string", "format": "date-time"}
    verdicts = ["valid", "tampered", "untrusted", "unsigned", "unreadable"]
    record = {
        "folio": {"type": "string", "pattern": FOLIO_PATTERN},
        "stored_status": {"type": "string", "enum": list(RECEIPT_STATUSES),
                          "description": "The signing job: pending, signed, failed, expired."},
        "verify_url": {"type": "string", "format": "uri"},
        "download_url": _nullable({"type": "string", "format": "uri"}),
        "signed_at": _nullable(moment),
        "expires_at": {**moment, "description": "When the stored PDF is (or was) deleted."},
        "sha256": _nullable({"type": "string", "pattern": "^[0-9a-f]{64}$"}),
    }
    result = {
        "status": {"type": "string", "enum": verdicts},
        "message": text,
        "signer": _nullable(text),
        "signed_at": _nullable(moment),
        "level": _nullable({**text, "examples": ["B-B", "B-T", "B-LT"]}),
        "receipt_folio": _nullable(text),
    }
    return {
        "ReceiptRecord": _object(**record),
        "Receipt": _object(
            **record,
            status={"type": "string",
                    "enum": [*verdicts, *(s for s in RECEIPT_STATUSES if s != "signed")]},
            contents={"anyOf": [_ref("ReceiptContents"), {"type": "null"}]},
            signature={"anyOf": [_ref("VerificationResult"), {"type": "null"}]},
        ),
        "ReceiptContents": _object(
            csa_name=text, agency_name=text, service=text, service_name=text,
            ticket_number=text, counter_name=_nullable(text), staff_name=_nullable(text),
            issued_at=moment, called_at=_nullable(moment), started_at=_nullable(moment),
            completed_at=moment, outcome={"type": "string", "enum": [o.value for o in Outcome]},
            procedure_folio=_nullable(text), note=_nullable(text),
        ),
        "VerificationResult": _object(**result),
        "ReceiptCheck": _object(
            **result,
            stored={"type": ["string", "null"],
                    "enum": ["identical", "different", "expired", "unknown", None],
                    "description": "How the upload compares with the stored PDF of its folio; "
                                   "null when it names no folio."},
            receipt={"anyOf": [_ref("ReceiptRecord"), {"type": "null"}]},
        ),
    }


def _object(required: list[str] | None = None, **properties: Schema) -> Schema:
    """A closed object; every property is required unless `required` says otherwise."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties) if required is None else required,
        "properties": properties,
    }


def _nullable(schema: Schema) -> Schema:
    return {**schema, "type": [schema["type"], "null"]}


def _nullable_enum(values: list[str]) -> Schema:
    return {"type": ["string", "null"], "enum": [*values, None]}


def _array(name: str) -> Schema:
    return {"type": "array", "items": _ref(name)}


def _text(max_len: int) -> Schema:
    return {"type": "string", "minLength": 1, "maxLength": max_len}
