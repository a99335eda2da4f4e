// Stage 0: anatomy-guided attention priors (spec §4, phases 0A–0E).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "cephtrace/constants.hpp"
#include "cephtrace/landmarks.hpp"

#include "core/onnx_model.hpp"

namespace cephtrace {

// Models Stage 0 uses; any pointer may be null (phase then fails → degraded).
struct Stage0Models {
  OnnxModel* profile = nullptr;
  std::array<OnnxModel*, 4> zones{};  // z1..z4
  OnnxModel* derive = nullptr;
};

// How Phase 0D turns contour masks into polylines (spec §4.4).
enum class ContourMode {
  Reference,   // the reference's closed findContours boundary used as an open polyline
  Centreline,  // robust: thinned mask, longest path between its two farthest ends
};

struct Stage0Options {
  ContourMode contour_mode = ContourMode::Centreline;
  // Reference behaviour (spec §4.5): an anchor 0D did not find is fed to the MLP as
  // (0.5, 0.5) AND rendered there. When false it is still fed as (0.5, 0.5) but its
  // attention channel is left zero (as for any absent landmark). Either way it is
  // listed in details["0E"]["anchors_defaulted"].
  bool render_defaulted_anchors = false;
};

struct Stage0Output {
  bool priors_available = false;  // attention maps were produced
  // 25 attention maps at 512×512, CV_32F, canonical order (empty when unavailable).
  std::vector<cv::Mat> attention512;
  // Where each prior was centred, in ORIGINAL pixels of the (left-facing) image.
  std::array<std::optional<cv::Point2d>, kNumLandmarks> prior_positions{};
  nlohmann::json status = nlohmann::json::object();   // "0A".."0E" → bool
  nlohmann::json details = nlohmann::json::object();  // "0A".."0E" → object
  // Per-phase timings in ms ("0A".."0E").
  std::vector<std::pair<std::string, double>> timings_ms;
  // Diagnostics for overlays: profile mask (512², CV_8U) and contours in original px.
  cv::Mat profile_mask512;
  std::vector<std::pair<std::string, std::vector<cv::Point2d>>> contours;
};

// Runs phases 0A–0E on an 8-bit grey image at native size that faces LEFT.
// `profile_mask512` is Phase 0A's mask for this very image when the caller already has it
// (the orientation check runs the profile model on both views); empty = run the profile model.
// Never throws for bad image content; a failing phase is reported in status/details.
Stage0Output run_stage0(const cv::Mat& grey_native, Stage0Models& models,
                        const Stage0Options& options = {}, const cv::Mat& profile_mask512 = {});

}  // namespace cephtrace
