// Clinical cephalometric analyses (Steiner, Wits, Downs, Tweed, Björk–Jarabak, McNamara,
// Ricketts, Holdaway, Burstone–Legan) computed from the 25 canonical landmarks and, for the
// measures that need them, the 14 extended ones (molars, PT, columella, soft-tissue points).
// Independent of the predictor: it works on any landmark set — a `cephtrace predict` result
// or a ground-truth file.
//
// Conventions (docs/analyses.md has every definition, norm and source):
// - Signed measures follow clinical convention whichever way the face looks: the landmarks
//   are first mapped to a profile frame (anterior = +x, superior = +y), so a mirrored or
//   rotated image gives identical values.
// - Linear measures are in mm only when the pixel spacing is known; otherwise they are in
//   pixels (no norm comparison) or, on request, scaled so that S–N = 71 mm (labelled).
// - A measurement whose landmarks are missing or low-confidence is listed as not available
//   with the reason; nothing is approximated silently.
#pragma once

#include <array>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core/types.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cephtrace/landmarks.hpp"
#include "cephtrace/original_image_landmarks.hpp"
#include "cephtrace/result.hpp"

namespace cephtrace {

// Landmarks of one image (a predict result or ground truth) in ORIGINAL-image pixels:
// OriginalImageLandmarks, whose orientation is a hint (the landmarks decide first).
//
// One landmark set from (a) a predict result (read_predict_json) or (b) a canonical
// ground-truth object {"S": [x, y] | {"x": .., "y": ..} | null, ..., "_pixel_spacing_mm": ..}
// (ground_truth_from_json). Throws std::runtime_error naming `origin` (when not empty) and
// the problem.
OriginalImageLandmarks landmarks_from_json(const nlohmann::json& j, const std::string& origin = "");

// Like landmarks_from_json, and also accepts a predict batch (image path -> result).
// Names are the batch keys; a single set comes back with an empty name.
std::vector<std::pair<std::string, OriginalImageLandmarks>> landmark_sets_from_json(
    const nlohmann::json& j, const std::string& origin = "");

// Reads and parses a JSON file; errors name the file and the problem.
std::vector<std::pair<std::string, OriginalImageLandmarks>> load_landmark_sets(
    const std::filesystem::path& file);

struct AnalysisOptions {
  std::optional<double> pixel_spacing_mm;  // mm per pixel; overrides the set's own
  bool allow_low_confidence = false;       // use low-confidence landmarks (with a warning)
  bool sn_scaled = false;  // no spacing known: scale lengths so that S–N = 71 mm (labelled)
  // Analyses to report, by id (analysis_names()); empty: all. An unknown id throws
  // std::invalid_argument. The report keeps the clinical order whatever the order here.
  std::vector<std::string> analyses;
};

struct Measurement {
  std::string key;          // "SNA", "ANB", "UL-E_line", ... (measurement_keys())
  std::string analysis;     // "Steiner", "Downs", "Tweed", "Björk–Jarabak", ...
  std::string description;  // what is measured, e.g. "angle S–N–A"
  double value = 0;
  std::string unit;  // "deg" | "mm" | "px" | "mm (S-N scaled)" | "%"
  // Absent for pixel lengths, which cannot be compared with norms in mm.
  std::optional<double> norm_mean, norm_sd, deviation_sd;
  std::string norm_source;     // e.g. "Steiner 1953"
  std::string interpretation;  // e.g. "skeletal Class II tendency", "within norm"
};

struct UnavailableMeasurement {
  std::string key;
  std::string analysis;
  std::string reason;  // e.g. "needs Co (missing)"
};

struct AnalysisReport {
  std::vector<Measurement> measurements;              // in measurement_keys() order
  std::vector<UnavailableMeasurement> not_available;  // with reasons
  std::vector<std::string> warnings;
  std::string length_unit;             // unit of linear measures: "mm" | "px" | "mm (S-N scaled)"
  std::optional<double> mm_per_pixel;  // the scale used for linear measures
  std::optional<Orientation> facing;   // which way the face looks in the image

  const Measurement* find(std::string_view key) const;
  const UnavailableMeasurement* find_unavailable(std::string_view key) const;
};

// Throws std::invalid_argument for a non-positive options.pixel_spacing_mm or an unknown
// analysis id.
AnalysisReport analyze(const OriginalImageLandmarks& landmarks, const AnalysisOptions& options = {});

// {"measurements": {"SNA": {"value", "unit", "norm_mean", "norm_sd", "deviation_sd",
//   "interpretation", "norm_source", "analysis", "description"}, ...},
//  "not_available": {"Wits": {"analysis", "reason"}, ...},
//  "warnings": [...], "length_unit": .., "mm_per_pixel": .., "facing": "left" | "right"}
// Keys keep report order (SNA, SNB, ANB, ...), like the predict result's JSON.
nlohmann::ordered_json to_json(const AnalysisReport& report);

// Human-readable table: measure, value, norm, deviation, interpretation; then the
// measurements not available and the warnings.
std::string format_table(const AnalysisReport& report);

// Keys of every measurement analyze() can report, in report order.
std::vector<std::string_view> measurement_keys();

// The analyses in report order (the order clinicians read them): {id, display name}, e.g.
// {"steiner", "Steiner"}, {"wits", "Wits"}, ..., {"burstone", "Burstone–Legan"}.
std::vector<std::pair<std::string_view, std::string_view>> analysis_names();

// Reference lines for an overlay, in image pixels: "S-N", "N-A", "N-B", "FH" (Po–Or),
// "MP" (Go–Me), "E-line" (Prn–Pog_soft), "OP" (the occlusal plane: molar contact midpoint to
// incisor overlap midpoint); only those whose landmarks are present.
struct AnalysisLine {
  std::string name;
  cv::Point2d from, to;
};
std::vector<AnalysisLine> analysis_lines(const OriginalImageLandmarks& landmarks);

}  // namespace cephtrace
