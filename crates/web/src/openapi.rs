//! The OpenAPI document of the JSON API, written by hand and checked by the tests against
//! the router's routes.

use serde_json::{Value, json};

pub fn document() -> Value {
    let mut doc = document_without_proofs();
    let paths = doc["paths"].as_object_mut().expect("paths");
    if let Value::Object(more) = proof_paths() {
        paths.extend(more);
    }
    if let Value::Object(more) = grant_paths() {
        paths.extend(more);
    }
    doc["components"]["schemas"]["Grant"] = grant_schema();
    doc
}

fn document_without_proofs() -> Value {
    let error = json!({"$ref": "#/components/schemas/Error"});
    let code =
        json!({"name": "code", "in": "path", "required": true, "schema": {"type": "string"}});
    let seq = json!({"name": "seq", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}});
    let err = |description: &str| json!({"description": description, "content": {"application/json": {"schema": error}}});
    let ledger_entry = json!({
        "type": "object",
        "required": ["seq", "prev_hash", "hash", "kind", "at", "payload", "data"],
        "properties": {
            "seq": {"type": "integer", "minimum": 1},
            "prev_hash": {"type": "string", "description": "64 hex; 64 zeros before the first entry"},
            "hash": {"type": "string", "description": "SHA-256 of \"bandi-ledger-v1\\n\" + seq + \"\\n\" + prev_hash + \"\\n\" + kind + \"\\n\" + at + \"\\n\" + payload"},
            "kind": {"type": "string", "enum": ["call_published", "application_submitted", "application_taken", "checklist_checked", "integration_requested", "integration_answered", "application_admitted", "application_reduced", "application_rejected", "application_withdrawn", "award_revoked", "budget_changed", "list_published", "cup_recorded", "report_submitted", "expense_checked", "report_returned", "verification_closed", "payment_recorded", "report_deadline_extended"]},
            "at": {"type": "string", "format": "date-time"},
            "payload": {"type": "string", "description": "The exact bytes hashed: the record's compact JSON (docs/ledger.md)"},
            "data": {"type": "object", "description": "The payload read as an object"}
        }
    });
    let checkpoint = json!({
        "type": "object",
        "required": ["seq", "size", "head", "time", "key_id", "signature"],
        "properties": {
            "seq": {"type": "integer"}, "size": {"type": "integer"}, "head": {"type": "string"},
            "time": {"type": "string", "format": "date-time"}, "key_id": {"type": "string"},
            "signature": {"type": "string", "description": "Base64 Ed25519 signature of \"bandi-checkpoint-v1\\nkey_id:…\\nsize:…\\nhead:…\\ntime:…\\n\""}
        }
    });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "bandi API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Calls for funding of a region for local authorities: submission on the click day, public counters, ranking, the review, published lists, and a hash-chained ledger with signed receipts and checkpoints that anyone can check (docs/ledger.md). Amounts are integer euro cents; instants are RFC 3339 UTC with microseconds."
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "field": {"type": "string"},
                            "details": {"type": "array", "items": {
                                "type": "object",
                                "properties": {"field": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}}
                            }},
                            "server_time": {"type": "string", "format": "date-time"},
                            "protocol": {"type": "string"}
                        }
                    }}
                },
                "ApplicationBody": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["title", "lines"],
                    "properties": {
                        "title": {"type": "string", "maxLength": 300},
                        "summary": {"type": "string"},
                        "lines": {"type": "array", "items": {
                            "type": "object", "additionalProperties": false,
                            "required": ["category", "amount_cents"],
                            "properties": {
                                "category": {"type": "string"},
                                "description": {"type": "string"},
                                "amount_cents": {"type": "integer", "minimum": 1},
                                "service": {
                                    "type": "object", "additionalProperties": false,
                                    "description": "A line bought from the services catalogue (GET /api/v1/services): amount_cents must be quantity × unit_price_cents, at the catalogue's current price.",
                                    "required": ["code", "quantity", "unit_price_cents"],
                                    "properties": {
                                        "code": {"type": "string"},
                                        "quantity": {"type": "integer", "minimum": 1, "maximum": 1000000},
                                        "unit_price_cents": {"type": "integer", "minimum": 1}
                                    }
                                }
                            }
                        }},
                        "indicators": {"type": "object", "additionalProperties": {"type": ["integer", "string"]}},
                        "practices": {"type": "array", "maxItems": 20, "uniqueItems": true, "description": "Numbers of published good practices (/pratiche) the project reuses.", "items": {"type": "integer", "minimum": 1}}
                    }
                },
                "Act": {
                    "type": "object", "additionalProperties": false, "required": ["number", "date"],
                    "properties": {"number": {"type": "string", "example": "DGR 1234/2020"}, "date": {"type": "string", "format": "date"}}
                },
                "ReviewAction": {
                    "type": "object",
                    "required": ["action"],
                    "description": "take {takeover?}; check {item, passed, note?}; request_integration {text, deadline (RFC 3339)}; admit {reason}; reduce {eligible_cents | lines: [{line, admitted_cents}], reason}; reject {reason}; withdraw {reason}; record_cup {cup}",
                    "properties": {
                        "action": {"type": "string", "enum": ["take", "check", "request_integration", "admit", "reduce", "reject", "withdraw", "record_cup"]},
                        "takeover": {"type": "boolean"},
                        "item": {"type": "string"},
                        "passed": {"type": "boolean"},
                        "note": {"type": "string"},
                        "text": {"type": "string"},
                        "deadline": {"type": "string", "format": "date-time"},
                        "reason": {"type": "string"},
                        "eligible_cents": {"type": "integer"},
                        "lines": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["line", "admitted_cents"], "properties": {"line": {"type": "integer", "minimum": 0}, "admitted_cents": {"type": "integer"}}}},
                        "cup": {"type": "string", "pattern": "^[A-Z][0-9]{2}[A-Z][0-9]{11}$"}
                    }
                },
                "LedgerEntry": ledger_entry,
                "Checkpoint": checkpoint,
                "Receipt": {
                    "type": "object",
                    "required": ["id", "protocol", "seq", "received_at", "content_sha256", "ledger_seq", "status", "eligible_cost_cents", "requested_cents", "reserved_cents"],
                    "properties": {
                        "id": {"type": "string"},
                        "call": {"type": "string"},
                        "entity": {"type": "string"},
                        "protocol": {"type": "string", "example": "ER-SW-2020/0000042"},
                        "seq": {"type": "integer"},
                        "admitted_at": {"type": "string", "format": "date-time", "description": "When the request was admitted to the queue, after its body was read and checked: the order"},
                        "received_at": {"type": "string", "format": "date-time", "description": "When the batch holding it committed (durable)"},
                        "content_sha256": {"type": "string"},
                        "ledger_seq": {"type": "integer"},
                        "ledger_prev_hash": {"type": "string"},
                        "ledger_hash": {"type": "string"},
                        "key_id": {"type": "string", "description": "The key that signed (see /keys)"},
                        "signature": {"type": "string", "description": "Base64 Ed25519 signature of the batch text (docs/ledger.md)"},
                        "batch": {"type": "object", "required": ["size", "index", "root", "path"], "properties": {
                            "size": {"type": "integer"}, "index": {"type": "integer"},
                            "root": {"type": "string"}, "path": {"type": "array", "items": {"type": "string"}}
                        }},
                        "status": {"type": "string", "enum": ["reserved", "partial", "waitlisted"]},
                        "total_cost_cents": {"type": "integer"},
                        "eligible_cost_cents": {"type": "integer"},
                        "requested_cents": {"type": "integer"},
                        "reserved_cents": {"type": "integer"},
                        "notices": {"type": "array", "items": {"type": "object"}}
                    }
                }
            }
        },
        "paths": {
            "/health": {"get": {"summary": "Liveness; no database work", "x-summary-it": "Il servizio risponde (nessun accesso al database)", "responses": {"200": {"description": "{\"status\":\"ok\"}"}}}},
            "/openapi.json": {"get": {"summary": "This document", "x-summary-it": "Questo documento (OpenAPI 3.1)", "responses": {"200": {"description": "OpenAPI 3.1"}}}},
            "/calls/{code}": {"get": {
                "summary": "A call's state and live counters", "x-summary-it": "Lo stato di un bando e i suoi contatori in tempo reale",
                "parameters": [{"name": "code", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "code, title, state, opens_at, closes_at, server_time, budget_cents, reserved_cents, remaining_cents, applications, waitlisted"}, "404": err("unknown call")}
            }},
            "/calls/{code}/ranking": {"get": {
                "summary": "Every application of the call in protocol order", "x-summary-it": "L'elenco cronologico delle domande del bando, in ordine di protocollo",
                "parameters": [{"name": "code", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "{items: [{seq, protocol, entity_code, entity_name, received_at, requested_cents, reserved_cents, status}]}"}, "404": err("unknown call")}
            }},
            "/calls/{code}/applications": {"post": {
                "summary": "Submit an application", "x-summary-it": "Presentare una domanda (con il token dell'ente)",
                "security": [{"bearer": []}],
                "parameters": [
                    {"name": "code", "in": "path", "required": true, "schema": {"type": "string"}},
                    {"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 255}}
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApplicationBody"}}}},
                "responses": {
                    "201": {"description": "Accepted and durable", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Receipt"}}}},
                    "200": {"description": "A retry: the first receipt", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Receipt"}}}},
                    "400": err("not JSON, duplicate keys, or not an object"),
                    "401": err("no or unknown token (the scheme Bearer in any case)"),
                    "415": err("unsupported_media_type: the body must be application/json"),
                    "403": err("not_eligible, call_not_open or call_closed (with server_time)"),
                    "404": err("unknown call"),
                    "409": err("already_applied or idempotency_conflict (with protocol)"),
                    "413": err("body over 64 KiB"),
                    "422": err("invalid content: every problem in details"),
                    "429": err("too_many_requests: this entity or this address has too many submissions in progress; see Retry-After"),
                    "503": err("overloaded or storage unavailable; see Retry-After")
                }
            }},
            "/calls/{code}/applications/{seq}/review": {
                "get": {
                    "summary": "An application's review (officials: a bnu_ token)", "x-summary-it": "L'istruttoria di una domanda (per gli uffici regionali)",
                    "security": [{"bearer": []}],
                    "parameters": [code, seq],
                    "responses": {"200": {"description": "{seq, protocol, entity, review_state, holder, checklist, open_request, cup, eligible_cents, requested_cents, status, reserved_cents}"}, "401": err("no or unknown token"), "403": err("forbidden: not an official's token"), "404": err("no such application")}
                },
                "post": {
                    "summary": "An action of the review; the waitlist moves at once when money is freed", "x-summary-it": "Un'azione dell'istruttoria; le domande in attesa ricevono subito le risorse liberate",
                    "security": [{"bearer": []}],
                    "parameters": [code, seq],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReviewAction"}}}},
                    "responses": {
                        "200": {"description": "{ok, action, application, ledger: [{seq, kind, hash}], changed: [{protocol, seq, status_before, status, reserved_before_cents, reserved_cents, requested_cents}]}"},
                        "400": err("not JSON, duplicate keys, unknown action or fields"),
                        "401": err("no or unknown token"),
                        "403": err("forbidden: not an official, or not this role"),
                        "404": err("no such application"),
                        "409": err("the state does not allow it: wrong_state, held_by_another, not_held, request_open, checklist_incomplete, not_funded, ..."),
                        "415": err("the body must be application/json"),
                        "422": err("invalid input: text_required, cut_above_line, not_a_reduction, invalid_cup, invalid_deadline, ...")
                    }
                }
            },
            "/calls/{code}/budget": {"post": {
                "summary": "Money added to (or, negative, taken from) a call's budget by an act; admins only", "x-summary-it": "Risorse aggiunte alla dotazione del bando (o tolte) con un atto; solo amministratori",
                "security": [{"bearer": []}],
                "parameters": [code],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "additionalProperties": false, "required": ["add_cents", "act"],
                    "properties": {"add_cents": {"type": "integer"}, "act": {"$ref": "#/components/schemas/Act"}}
                }}}},
                "responses": {"200": {"description": "{ok, budget_cents, reserved_cents, remaining_cents, ledger, changed}"}, "401": err("no or unknown token"), "403": err("forbidden"), "404": err("unknown call"), "409": err("budget_below_reserved"), "422": err("invalid_act, invalid_amount")}
            }},
            "/calls/{code}/lists": {
                "get": {
                    "summary": "Every published version of the call's list, newest first", "x-summary-it": "Tutte le versioni pubblicate dell'elenco del bando, dalla più recente",
                    "parameters": [code],
                    "responses": {"200": {"description": "{versions: [{version, act: {number, date, document_sha256}, published_at, list_sha256, ledger_seq, href}]}"}, "404": err("unknown call")}
                },
                "post": {
                    "summary": "Publish the list as it stands, approved by an act; admins only", "x-summary-it": "Pubblicare l'elenco com'è ora, approvato con un atto; solo amministratori",
                    "security": [{"bearer": []}],
                    "parameters": [code],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {
                        "type": "object", "additionalProperties": false, "required": ["act"],
                        "properties": {"act": {"$ref": "#/components/schemas/Act"}}
                    }}}},
                    "responses": {"201": {"description": "{ok, version, href, ledger}"}, "401": err("no or unknown token"), "403": err("forbidden"), "404": err("unknown call"), "422": err("invalid_act")}
                }
            },
            "/calls/{code}/lists/{version}": {"get": {
                "summary": "A published version, its canonical JSON byte for byte: its SHA-256 is the list_sha256 of its ledger entry", "x-summary-it": "Una versione pubblicata dell'elenco, byte per byte come la sua impronta nel registro",
                "parameters": [code, {"name": "version", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}}],
                "responses": {"200": {"description": "{call, version, rows: [{seq, protocol, entity_code, entity_name, received_at, requested_cents, granted_cents, outcome}]}"}, "404": err("no such version")}
            }},
            "/applications/{id}": {"get": {
                "summary": "An application and its receipt, for the entity that owns it", "x-summary-it": "Una domanda e la sua ricevuta, per l'ente che l'ha presentata",
                "security": [{"bearer": []}],
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The application"}, "401": err("no or unknown token"), "404": err("no such application for this token")}
            }},
            "/ledger": {"get": {
                "summary": "The hash-chained ledger, in pages", "x-summary-it": "Il registro pubblico concatenato, a pagine",
                "parameters": [
                    {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807i64, "default": 0}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}
                ],
                "responses": {"200": {"description": "Entries in order", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["items", "next_after"],
                    "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/LedgerEntry"}}, "next_after": {"type": "integer"}}
                }}}}, "400": err("bad parameter")}
            }},

        }
    })
}

/// The paths an outsider checks the platform with (`docs/ledger.md`).
fn proof_paths() -> Value {
    let error = json!({"$ref": "#/components/schemas/Error"});
    let bad =
        json!({"description": "bad parameter", "content": {"application/json": {"schema": error}}});
    json!({
        "/ledger/head": {"get": {
            "summary": "The ledger's size and its last entry's hash and instant", "x-summary-it": "La dimensione del registro e l'impronta e l'istante della sua ultima voce",
            "responses": {"200": {"description": "{size, head, at}: head is 64 zeros and at null when empty", "content": {"application/json": {"schema": {
                "type": "object", "required": ["size", "head", "at"],
                "properties": {"size": {"type": "integer"}, "head": {"type": "string"}, "at": {"type": ["string", "null"], "format": "date-time"}}
            }}}}}
        }},
        "/keys": {"get": {
            "summary": "Every key that signed receipts and checkpoints, with its validity", "x-summary-it": "Le chiavi che firmano ricevute e punti di controllo, con la loro validità",
            "responses": {"200": {"description": "Keys, oldest first", "content": {"application/json": {"schema": {
                "type": "object", "required": ["items"],
                "properties": {"items": {"type": "array", "items": {
                    "type": "object", "required": ["key_id", "algorithm", "public_key", "valid_from", "valid_to"],
                    "properties": {
                        "key_id": {"type": "string", "description": "hex of the first 8 bytes of SHA-256(public key)"},
                        "algorithm": {"type": "string", "enum": ["ed25519"]},
                        "public_key": {"type": "string", "description": "base64 of the 32 raw bytes"},
                        "valid_from": {"type": "string", "format": "date-time"},
                        "valid_to": {"type": ["string", "null"], "format": "date-time"}
                    }
                }}}
            }}}}}
        }},
        "/checkpoints": {"get": {
            "summary": "Signed checkpoints of the ledger, oldest first, in pages", "x-summary-it": "I punti di controllo firmati del registro, a pagine",
            "parameters": [
                {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}
            ],
            "responses": {"200": {"description": "Checkpoints", "content": {"application/json": {"schema": {
                "type": "object", "required": ["items", "next_after"],
                "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Checkpoint"}}, "next_after": {"type": "integer"}}
            }}}}, "400": bad}
        }}
    })
}

/// A grant as the open data give it.
fn grant_schema() -> Value {
    json!({
        "type": "object",
        "required": ["call", "seq", "protocol", "beneficiary", "project", "requested_cents", "awarded_cents", "award_act", "final_grant_cents", "paid_cents", "revocation", "stage", "ledger_href"],
        "properties": {
            "call": {"type": "string"},
            "seq": {"type": "integer", "minimum": 1},
            "protocol": {"type": "string"},
            "beneficiary": {"type": "object", "required": ["id", "entity_code", "name", "kind"], "properties": {
                "id": {"type": "string", "description": "IT-CF-{fiscal code}, or IT-BANDI-ENTE-{entity code} when the registry has no fiscal code"},
                "entity_code": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
                "fiscal_code": {"type": ["string", "null"]}, "province": {"type": ["string", "null"]}, "istat_code": {"type": ["string", "null"]}
            }},
            "project": {"type": "object", "properties": {"title": {"type": "string"}, "cup": {"type": ["string", "null"]}}},
            "requested_cents": {"type": "integer"},
            "awarded_cents": {"type": "integer", "description": "As the act's published list states it; what is reserved now while no act awards it"},
            "award_act": {"type": ["object", "null"], "description": "The latest published list funding it: {number, date, list_version, list_href, ledger_seq, document_href}"},
            "final_grant_cents": {"type": ["integer", "null"], "description": "Once the report's verification is closed"},
            "paid_cents": {"type": "integer"},
            "revocation": {"type": ["object", "null"], "description": "{act: {number, date}, to_recover_cents}"},
            "stage": {"type": "string", "enum": ["reserved", "awarded", "verified", "paid", "revoked"]},
            "ledger_href": {"type": "string"}
        }
    })
}

/// The grants as open data (D.Lgs. 33/2013, artt. 26-27), public.
fn grant_paths() -> Value {
    let error = json!({"$ref": "#/components/schemas/Error"});
    let grant = json!({"$ref": "#/components/schemas/Grant"});
    json!({
        "/calls/{code}/grants": {"get": {
            "summary": "The grants of a call (admitted and funded, or revoked) with the act of award, the final grant, payments and revocations: the transparency page as data", "x-summary-it": "I contributi di un bando con atti, contributo finale, pagamenti e revoche: la pagina della trasparenza come dati",
            "parameters": [{"name": "code", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "{call, title, title_en, funder, office, office_in_call_file, how_chosen, how_chosen_en, act_of_award, totals, grants}", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["call", "grants"],
                    "properties": {"call": {"type": "string"}, "grants": {"type": "array", "items": grant.clone()}}
                }}}},
                "404": {"description": "unknown call", "content": {"application/json": {"schema": error}}}
            }
        }},
        "/services": {"get": {
            "summary": "The services catalogue of the region's in-house provider: what a budget line's service names", "x-summary-it": "Il catalogo dei servizi della società in-house della Regione: ciò che il servizio di una voce di spesa indica",
            "responses": {"200": {"description": "{provider, services}; provider null before any catalogue is imported", "content": {"application/json": {"schema": {
                "type": "object", "required": ["provider", "services"],
                "properties": {
                    "provider": {"type": ["string", "null"]},
                    "services": {"type": "array", "items": {"type": "object", "required": ["code", "kind", "name", "unit", "unit_price_cents"], "properties": {
                        "code": {"type": "string"},
                        "kind": {"type": "string", "enum": ["cloud_hosting", "virtual_desktop", "collaboration", "connectivity", "training"]},
                        "name": {"type": "object", "properties": {"it": {"type": "string"}, "en": {"type": "string"}}},
                        "unit": {"type": "object", "properties": {"it": {"type": "string"}, "en": {"type": "string"}}},
                        "unit_price_cents": {"type": "integer"},
                        "description": {"type": "object", "properties": {"it": {"type": "string"}, "en": {"type": "string"}}}
                    }}}
                }
            }}}}}
        }},
        "/grants": {"get": {
            "summary": "Every call's grants", "x-summary-it": "I contributi di tutti i bandi",
            "responses": {"200": {"description": "{funder, grants}", "content": {"application/json": {"schema": {
                "type": "object", "required": ["grants"],
                "properties": {"grants": {"type": "array", "items": grant}}
            }}}}}
        }}
    })
}
