// The OpenAPI 3 document served at /openapi.json. tests/serve checks it against
// ApiServer::routes() and against the status codes the server really answers with.
#include "cephtrace/serve.hpp"

#include "cephtrace/version.hpp"

namespace cephtrace {

const std::string& ApiServer::openapi_json() {
  static const std::string doc = R"json({
  "openapi": "3.0.3",
  "info": {
    "title": "CephTrace API",
    "version": ")json" CEPHTRACE_VERSION_STRING R"json(",
    "description": "Automatic cephalometric landmark detection (25 landmarks, and 14 more when the model folder has the extended model) and clinical analyses. Every error is {\"error\": {\"code\", \"message\"}}. When the server was started with --token, every /v1 call and this document need 'Authorization: Bearer <token>'."
  },
  "components": {
    "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
    "parameters": {
      "pixel_spacing_mm": { "name": "pixel_spacing_mm", "in": "query", "schema": { "type": "number", "exclusiveMinimum": true, "minimum": 0 }, "description": "mm per pixel; overrides the DICOM spacing (alias: pixel_spacing)" },
      "analyze": { "name": "analyze", "in": "query", "schema": { "type": "boolean" }, "description": "predict: add the clinical analyses as \"analysis\"; overlay: draw their reference lines" },
      "analyses": { "name": "analyses", "in": "query", "schema": { "type": "string" }, "example": "steiner,wits", "description": "comma-separated analyses to report (steiner, wits, downs, tweed, bjork, mcnamara, ricketts, holdaway, burstone); default all. An unknown one is a 400 naming the known ones" },
      "decoder": { "name": "decoder", "in": "query", "schema": { "type": "string", "enum": ["reference", "dark"] } },
      "orientation": { "name": "orientation", "in": "query", "schema": { "type": "string", "enum": ["auto", "left", "right"] }, "description": "which way the face looks; auto detects it" },
      "refine_passes": { "name": "refine_passes", "in": "query", "schema": { "type": "integer", "minimum": 0, "maximum": 5 }, "description": "Stage 2 passes (0 = Stage 1 positions)" },
      "reference_exact": { "name": "reference_exact", "in": "query", "schema": { "type": "boolean" } }
    },
    "requestBodies": {
      "image": {
        "required": true,
        "description": "The image file's bytes as the body (any Content-Type; DICOM without its preamble needs application/dicom), or multipart/form-data with the file in the 'image' part (the options may then also be form fields). Limit: --max-upload-mb.",
        "content": {
          "image/jpeg": { "schema": { "type": "string", "format": "binary" } },
          "image/png": { "schema": { "type": "string", "format": "binary" } },
          "image/bmp": { "schema": { "type": "string", "format": "binary" } },
          "image/tiff": { "schema": { "type": "string", "format": "binary" } },
          "application/dicom": { "schema": { "type": "string", "format": "binary" } },
          "multipart/form-data": {
            "schema": {
              "type": "object",
              "required": ["image"],
              "properties": {
                "image": { "type": "string", "format": "binary" },
                "landmarks": { "type": "string", "description": "overlay only: landmarks JSON to draw instead of predicting" }
              }
            }
          }
        }
      }
    },
    "schemas": {
      "Error": {
        "type": "object",
        "required": ["error"],
        "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": { "code": { "type": "string" }, "message": { "type": "string" } } } }
      },
      "Landmark": {
        "type": "object",
        "properties": { "index": { "type": "integer" }, "name": { "type": "string" }, "x": { "type": "number" }, "y": { "type": "number" }, "peak": { "type": "number" }, "confidence_score": { "type": "number" }, "confidence": { "type": "string", "enum": ["high", "medium", "low"] }, "tier": { "type": "string" }, "relocated": { "type": "boolean", "description": "present (true) when the anatomical gate moved Stage 1's answer; confidence is then low" }, "extended": { "type": "boolean", "description": "present (true) for the 14 extended landmarks (index 25-38: D, Cm, Ptm, PT, Bo, UL_border, LL_border, Gn_soft, Me_soft, G_soft, N_soft, C_point, U6, L6), which follow the 25 when the extended model ran; never high confidence" } }
      },
      "Prediction": {
        "type": "object",
        "description": "The JSON of `cephtrace predict` (README: reference schema plus the engine's additions).",
        "required": ["original_width", "original_height", "degraded", "stage0_status", "landmarks"],
        "properties": {
          "original_width": { "type": "integer" }, "original_height": { "type": "integer" },
          "degraded": { "type": "boolean" }, "stage0_status": { "type": "object" }, "stage0_details": { "type": "object" },
          "landmarks": { "type": "array", "items": { "$ref": "#/components/schemas/Landmark" } },
          "orientation": { "type": "string" }, "pixel_spacing_mm": { "type": "number", "nullable": true },
          "framing": { "type": "object", "nullable": true, "description": "field-of-view normalisation: applied, scale, rotation_deg, inverted, content_box [x, y, w, h] (docs/device_shift.md)" },
          "analysis": { "$ref": "#/components/schemas/Analysis" }
        }
      },
      "Analysis": {
        "type": "object",
        "description": "The JSON of `cephtrace analyze`.",
        "properties": { "measurements": { "type": "object" }, "not_available": { "type": "object" }, "warnings": { "type": "array", "items": { "type": "string" } }, "length_unit": { "type": "string" }, "mm_per_pixel": { "type": "number", "nullable": true }, "facing": { "type": "string" } }
      }
    },
    "responses": {
      "BadRequest": { "description": "bad image, bad option or bad JSON", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "Unauthorized": { "description": "missing or wrong bearer token", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "TooLarge": { "description": "upload larger than --max-upload-mb", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "WrongType": { "description": "not an image (or, for analyze, not JSON)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "Busy": { "description": "the queue is full; see the Retry-After header (seconds)", "headers": { "Retry-After": { "schema": { "type": "integer" } } }, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "Timeout": { "description": "no answer within the request time limit (--timeout-s)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
    }
  },
  "security": [ { "bearer": [] } ],
  "paths": {
    "/v1/health": {
      "get": {
        "summary": "Liveness, workers and queue",
        "responses": {
          "200": { "description": "the server is up", "content": { "application/json": { "schema": { "type": "object", "properties": { "status": { "type": "string" }, "degraded": { "type": "boolean" }, "workers": { "type": "integer" }, "queue": { "type": "object" } } } } } },
          "401": { "$ref": "#/components/responses/Unauthorized" }
        }
      }
    },
    "/v1/models": {
      "get": {
        "summary": "The model files in the model folder: size, sha256, whether they loaded",
        "responses": {
          "200": { "description": "models", "content": { "application/json": { "schema": { "type": "object", "properties": { "model_dir": { "type": "string" }, "stage0_available": { "type": "boolean" }, "models": { "type": "array", "items": { "type": "object", "properties": { "name": { "type": "string" }, "file": { "type": "string" }, "size_bytes": { "type": "integer" }, "sha256": { "type": "string" }, "loaded": { "type": "boolean" } } } }, "missing": { "type": "object" } } } } } },
          "401": { "$ref": "#/components/responses/Unauthorized" }
        }
      }
    },
    "/v1/predict": {
      "post": {
        "summary": "The 25 landmarks of one cephalogram (the `cephtrace predict` JSON)",
        "parameters": [ { "$ref": "#/components/parameters/pixel_spacing_mm" }, { "$ref": "#/components/parameters/analyze" }, { "$ref": "#/components/parameters/analyses" }, { "$ref": "#/components/parameters/decoder" }, { "$ref": "#/components/parameters/orientation" }, { "$ref": "#/components/parameters/refine_passes" }, { "$ref": "#/components/parameters/reference_exact" } ],
        "requestBody": { "$ref": "#/components/requestBodies/image" },
        "responses": {
          "200": { "description": "the prediction", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Prediction" } } } },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "413": { "$ref": "#/components/responses/TooLarge" },
          "415": { "$ref": "#/components/responses/WrongType" },
          "503": { "$ref": "#/components/responses/Busy" },
          "504": { "$ref": "#/components/responses/Timeout" }
        }
      }
    },
    "/v1/analyze": {
      "post": {
        "summary": "Clinical analyses of a landmark set (the `cephtrace analyze` JSON)",
        "parameters": [ { "$ref": "#/components/parameters/pixel_spacing_mm" }, { "name": "sn_scale", "in": "query", "schema": { "type": "boolean" }, "description": "no spacing known: scale lengths so that S-N = 71 mm (labelled)" }, { "name": "allow_low_confidence", "in": "query", "schema": { "type": "boolean" } }, { "$ref": "#/components/parameters/analyses" } ],
        "requestBody": { "required": true, "description": "a predict result ({\"landmarks\": [{\"name\", \"x\", \"y\", \"confidence\"}], \"pixel_spacing_mm\"}) or a canonical ground-truth object ({\"S\": [x, y], ...})", "content": { "application/json": { "schema": { "type": "object" } } } },
        "responses": {
          "200": { "description": "the analyses", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Analysis" } } } },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "413": { "$ref": "#/components/responses/TooLarge" },
          "415": { "$ref": "#/components/responses/WrongType" }
        }
      }
    },
    "/v1/overlay": {
      "post": {
        "summary": "The image with its landmarks drawn (predicted, or the multipart 'landmarks' part)",
        "parameters": [ { "$ref": "#/components/parameters/analyze" }, { "$ref": "#/components/parameters/decoder" }, { "$ref": "#/components/parameters/orientation" }, { "$ref": "#/components/parameters/refine_passes" }, { "$ref": "#/components/parameters/reference_exact" } ],
        "requestBody": { "$ref": "#/components/requestBodies/image" },
        "responses": {
          "200": { "description": "PNG overlay", "content": { "image/png": { "schema": { "type": "string", "format": "binary" } } } },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "413": { "$ref": "#/components/responses/TooLarge" },
          "415": { "$ref": "#/components/responses/WrongType" },
          "503": { "$ref": "#/components/responses/Busy" },
          "504": { "$ref": "#/components/responses/Timeout" }
        }
      }
    },
    "/v1/decode": {
      "post": {
        "summary": "The decoded image as 8-bit PNG (for viewers that cannot show TIFF or DICOM); X-Pixel-Spacing-Mm when the file has one",
        "requestBody": { "$ref": "#/components/requestBodies/image" },
        "responses": {
          "200": { "description": "PNG", "headers": { "X-Pixel-Spacing-Mm": { "schema": { "type": "number" } } }, "content": { "image/png": { "schema": { "type": "string", "format": "binary" } } } },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "413": { "$ref": "#/components/responses/TooLarge" },
          "415": { "$ref": "#/components/responses/WrongType" },
          "503": { "$ref": "#/components/responses/Busy" },
          "504": { "$ref": "#/components/responses/Timeout" }
        }
      }
    },
    "/v1/open-image": {
      "get": {
        "summary": "The image given with `serve --open` (the viewer starts with it); health's open_image names it",
        "responses": {
          "200": { "description": "the file's bytes", "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "404": { "description": "started without --open", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "summary": "This document",
        "responses": { "200": { "description": "OpenAPI 3 document", "content": { "application/json": { "schema": { "type": "object" } } } }, "401": { "$ref": "#/components/responses/Unauthorized" } }
      }
    }
  }
})json";
  return doc;
}

}  // namespace cephtrace
