// Which landmark file the analyses were given: a predict result, a predict batch or canonical
// ground truth. The formats themselves are read by their own readers (read_predict_json,
// ground_truth_from_json), so that every command checks them alike.
#include <stdexcept>

#include "cephtrace/analysis.hpp"
#include "cephtrace/ground_truth.hpp"
#include "cephtrace/limits.hpp"

namespace cephtrace {
namespace {

using nlohmann::json;

// A predict batch maps image paths to results; nothing else has only object values
// carrying "landmarks".
bool is_batch(const json& j) {
  if (!j.is_object() || j.empty() || j.contains("landmarks")) return false;
  for (const auto& [key, value] : j.items())
    if (!value.is_object() || !value.contains("landmarks")) return false;
  return true;
}

// Ground truth names at least one canonical landmark (under any alias), even as null.
bool names_a_landmark(const json& j) {
  const AliasTable aliases = AliasTable::builtin();
  for (const auto& [key, value] : j.items())
    if (!key.starts_with("_") && aliases.resolve(key)) return true;
  return false;
}

}  // namespace

OriginalImageLandmarks landmarks_from_json(const json& j, const std::string& origin) {
  const std::string file = origin.empty() ? "" : origin + ": ";
  if (!j.is_object())
    throw std::runtime_error(file + "expected a JSON object (a predict result or a ground-truth landmark file)");
  if (j.contains("landmarks")) return read_predict_json(j, origin).front().landmarks;
  if (!names_a_landmark(j))
    throw std::runtime_error(file +
                             "no landmarks found: expected a predict result with \"landmarks\" or a "
                             "ground-truth object like {\"S\": [x, y], \"N\": [x, y], ...}");
  return landmarks_from_ground_truth(ground_truth_from_json(j, origin));
}

std::vector<std::pair<std::string, OriginalImageLandmarks>> landmark_sets_from_json(const json& j,
                                                                                    const std::string& origin) {
  std::vector<std::pair<std::string, OriginalImageLandmarks>> sets;
  if (!is_batch(j)) {
    sets.emplace_back("", landmarks_from_json(j, origin));
    return sets;
  }
  for (auto& entry : read_predict_json(j, origin)) sets.emplace_back(entry.key, entry.landmarks);
  return sets;
}

std::vector<std::pair<std::string, OriginalImageLandmarks>> load_landmark_sets(
    const std::filesystem::path& file) {
  // parse_json bounds the depth and refuses repeated keys (a ground-truth file naming a
  // landmark twice) instead of keeping the last one.
  return landmark_sets_from_json(parse_json(read_file_limited(file), file.string()), file.string());
}

}  // namespace cephtrace
