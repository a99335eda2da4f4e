// Helpers shared by the evaluate module's sources (not part of the public API).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cephtrace/analysis.hpp"
#include "cephtrace/evaluate.hpp"
#include "cephtrace/ground_truth.hpp"

namespace cephtrace::detail {

// Why (x, y) is not a usable landmark position, or nullopt when it is. `size` = (width, height);
// coordinates are continuous pixels, so 0 ≤ x ≤ width and 0 ≤ y ≤ height are inside.
std::optional<std::string> coordinate_problem(double x, double y,
                                              std::optional<std::pair<int, int>> size);

// Strict number parsing: the whole (trimmed) field must be a finite number.
std::optional<double> parse_number(std::string_view field);

std::string trim(std::string_view s);
std::string stem_of(std::string_view path_or_name);  // "images/151.jpg" -> "151"
std::string format_number(double v, int decimals);

// Canonical landmarks in canonical order first, then the others in their current order.
void sort_canonical_first(std::vector<NamedPoint>& points);

// The clinical measures of one scored image, from its ground truth and from its prediction.
struct AnalyzedImage {
  std::string stem;
  AnalysisReport truth, prediction;
};
// Both landmark sets analysed at `mm_per_px` (the scale the landmark errors use).
AnalyzedImage analyze_pair(const GroundTruth& truth, const PredictedImage& prediction, double mm_per_px);
// Per measure over the images; fills report.measures and report.measure_observations.
void compare_measures(const std::vector<AnalyzedImage>& images, EvaluationReport& report);
nlohmann::json measures_json(const EvaluationReport& report);

}  // namespace cephtrace::detail
