// Reading landmark sets: predict results, predict batches and canonical ground truth.
#include <cmath>
#include <set>
#include <stdexcept>

#include "cephtrace/analysis.hpp"
#include "cephtrace/limits.hpp"

namespace cephtrace {
namespace {

using nlohmann::json;

std::runtime_error fail(const std::string& what) { return std::runtime_error(what); }

std::optional<double> finite_number(const json& v) {
  if (!v.is_number()) return std::nullopt;
  const double d = v.get<double>();
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

// A pixel spacing field: absent or null = unknown; anything else must be a positive number.
std::optional<double> read_spacing(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  const auto s = finite_number(j[key]);
  if (!s) throw fail(std::string(key) + " must be a number");
  check_pixel_spacing(*s, key);
  return s;
}

// A coordinate pair; either one null (or absent) means the landmark is missing.
std::optional<cv::Point2d> read_xy(const json& x, const json& y, const std::string& what) {
  if (x.is_null() || y.is_null()) return std::nullopt;
  const auto fx = finite_number(x), fy = finite_number(y);
  if (!fx || !fy) throw fail(what + ": coordinates must be finite numbers");
  return cv::Point2d(*fx, *fy);
}

// [x, y], {"x": x, "y": y} or null (missing).
std::optional<cv::Point2d> read_point(const json& v, const std::string& what) {
  if (v.is_null()) return std::nullopt;
  if (v.is_array() && v.size() == 2) return read_xy(v[0], v[1], what);
  if (v.is_object() && v.contains("x") && v.contains("y")) return read_xy(v["x"], v["y"], what);
  throw fail(what + ": expected [x, y], {\"x\": x, \"y\": y} or null");
}

LandmarkSet from_predict_result(const json& j) {
  const json& list = j["landmarks"];
  if (!list.is_array()) throw fail("\"landmarks\" must be an array of {name, x, y, ...}");
  LandmarkSet set;
  std::set<int> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    const json& e = list[i];
    const std::string where = "landmarks[" + std::to_string(i) + "]";
    if (!e.is_object()) throw fail(where + ": expected an object");
    std::optional<int> idx;
    if (e.contains("name") && e["name"].is_string()) {
      idx = canonical_index(e["name"].get<std::string>());
      if (!idx)
        throw fail(where + ": unknown landmark name '" + e["name"].get<std::string>() + "'");
    } else if (e.contains("index") && e["index"].is_number_integer()) {
      idx = e["index"].get<int>();
      if (*idx < 0 || *idx >= kNumLandmarks) throw fail(where + ": index out of range");
    } else {
      throw fail(where + ": needs a \"name\" or an \"index\"");
    }
    const std::string what = where + " (" + std::string(canonical_landmarks()[*idx].name) + ")";
    // One rule for every landmark input: a repeated landmark is an error naming it.
    if (!seen.insert(*idx).second) throw fail(what + ": the landmark appears twice");
    if (e.contains("available") && e["available"] == false) continue;  // marked absent
    set.points[*idx] = read_xy(e.value("x", json()), e.value("y", json()), what);
    set.low_confidence[*idx] = e.value("confidence", json()) == "low";
  }
  set.pixel_spacing_mm = read_spacing(j, "pixel_spacing_mm");
  if (j.contains("orientation") && j["orientation"].is_string()) {
    const auto o = j["orientation"].get<std::string>();
    if (o == "left") set.orientation = Orientation::FacingLeft;
    if (o == "right") set.orientation = Orientation::FacingRight;
  }
  return set;
}

LandmarkSet from_ground_truth(const json& j) {
  LandmarkSet set;
  bool any_canonical = false;
  for (const auto& [key, value] : j.items()) {
    if (key.starts_with("_")) continue;  // metadata
    // Extra landmarks a source has beyond CANONICAL_25 are kept in ground-truth files; the
    // analyses have no use for them.
    const auto idx = canonical_index(key);
    if (!idx) continue;
    any_canonical = true;
    set.points[*idx] = read_point(value, "landmark '" + key + "'");
  }
  if (!any_canonical)
    throw fail(
        "no landmarks found: expected a predict result with \"landmarks\" or a "
        "ground-truth object like {\"S\": [x, y], \"N\": [x, y], ...}");
  set.pixel_spacing_mm = read_spacing(j, "_pixel_spacing_mm");
  if (!set.pixel_spacing_mm) set.pixel_spacing_mm = read_spacing(j, "pixel_spacing_mm");
  return set;
}

// A predict batch maps image paths to results; nothing else has only object values
// carrying "landmarks".
bool is_batch(const json& j) {
  if (!j.is_object() || j.empty() || j.contains("landmarks")) return false;
  for (const auto& [key, value] : j.items())
    if (!value.is_object() || !value.contains("landmarks")) return false;
  return true;
}

}  // namespace

LandmarkSet landmarks_from_result(const PredictionResult& result) {
  LandmarkSet set;
  for (const auto& l : result.landmarks) {
    if (l.index < 0 || l.index >= kNumLandmarks) continue;
    set.points[l.index] = cv::Point2d(l.x, l.y);
    set.low_confidence[l.index] = l.confidence == "low";
  }
  set.pixel_spacing_mm = result.pixel_spacing_mm;
  set.orientation = result.orientation;
  return set;
}

LandmarkSet landmarks_from_json(const json& j) {
  if (!j.is_object())
    throw fail("expected a JSON object (a predict result or a ground-truth landmark file)");
  return j.contains("landmarks") ? from_predict_result(j) : from_ground_truth(j);
}

std::vector<std::pair<std::string, LandmarkSet>> landmark_sets_from_json(const json& j) {
  std::vector<std::pair<std::string, LandmarkSet>> sets;
  if (!is_batch(j)) {
    sets.emplace_back("", landmarks_from_json(j));
    return sets;
  }
  for (const auto& [key, value] : j.items()) {
    try {
      sets.emplace_back(key, landmarks_from_json(value));
    } catch (const std::runtime_error& e) {
      throw fail("entry '" + key + "': " + e.what());
    }
  }
  return sets;
}

std::vector<std::pair<std::string, LandmarkSet>> load_landmark_sets(
    const std::filesystem::path& file) {
  // parse_json bounds the depth and refuses repeated keys (a ground-truth file naming a
  // landmark twice) instead of keeping the last one.
  const json j = parse_json(read_file_limited(file), file.string());
  try {
    return landmark_sets_from_json(j);
  } catch (const std::exception& e) {
    throw fail(file.string() + ": " + e.what());
  }
}

}  // namespace cephtrace
