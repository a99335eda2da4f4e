// Landmark positions in ORIGINAL-image pixels, the one container the predictor's priors,
// the analyses, the server and the evaluation share, and the one reader of the JSON that
// `cephtrace predict` writes. (Ground truth is read by ground_truth.hpp; its canonical
// landmarks convert to this container there.)
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>  // read_predict_json's argument only
#include <opencv2/core/types.hpp>

#include "cephtrace/landmarks.hpp"
#include "cephtrace/result.hpp"

namespace cephtrace {

// The landmarks in pixels of the image as it was given (x right, y down; not the mirrored or
// resampled views the pipeline works on), by traced index: the 25 canonical ones, then the 14
// extended ones (landmarks.hpp); nullopt = absent.
struct OriginalImageLandmarks {
  std::array<std::optional<cv::Point2d>, kNumTraced> points{};
  std::array<bool, kNumTraced> low_confidence{};  // "confidence": "low" in a predict result
  std::optional<double> pixel_spacing_mm;            // mm per pixel, when known
  std::optional<Orientation> orientation;            // which way the face looks, when known
};

OriginalImageLandmarks landmarks_from_result(const PredictionResult& result);

// ---- The `cephtrace predict` JSON ---------------------------------------------------------

// One result read from a predict JSON.
struct PredictJsonEntry {
  std::string key;     // the batch key (the image path); "" for a single result
  std::string source;  // the result's "source" (the image path), "" when absent
  OriginalImageLandmarks landmarks;
};

// A predict JSON: one result {"landmarks": [{"name" (or "index"), "x", "y", "confidence",
// "available"}, ...], "pixel_spacing_mm", "orientation", "source", ...} or a batch
// {image path: result, ...}. Landmarks must have canonical or extended names (or traced
// indices), each at most once;
// "available": false or a null x/y is an absent landmark; other coordinates must be finite
// numbers. Throws GroundTruthError (ground_truth.hpp) naming `origin` (the file; may be
// empty), the batch entry and the landmark.
std::vector<PredictJsonEntry> read_predict_json(const nlohmann::json& j, const std::string& origin);

}  // namespace cephtrace
