// Reading the JSON `cephtrace predict` writes (to_json in result.cpp writes it).
#include <cmath>
#include <set>

#include "cephtrace/ground_truth.hpp"
#include "cephtrace/limits.hpp"
#include "cephtrace/original_image_landmarks.hpp"

namespace cephtrace {
namespace {

using nlohmann::json;

std::optional<double> finite_number(const json& v) {
  if (!v.is_number()) return std::nullopt;
  const double d = v.get<double>();
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

// One result; `fail` prefixes the problem with where it is.
template <typename Fail>
OriginalImageLandmarks read_result(const json& r, const Fail& fail) {
  if (!r.is_object() || !r.contains("landmarks") || !r["landmarks"].is_array())
    throw fail("no \"landmarks\" array of {name, x, y, ...}");
  OriginalImageLandmarks out;
  std::set<int> seen;
  const json& list = r["landmarks"];
  for (size_t i = 0; i < list.size(); ++i) {
    const json& l = list[i];
    const std::string where = "landmarks[" + std::to_string(i) + "]";
    if (!l.is_object()) throw fail(where + ": expected an object");
    std::optional<int> idx;
    if (l.contains("name") && l["name"].is_string()) {
      // Canonical and extended names only: another name is a typo or a foreign file, and
      // dropping it would score or analyse fewer landmarks than the user believes.
      const std::string name = l["name"].get<std::string>();
      idx = traced_index(name);
      if (!idx) throw fail(where + ": unknown landmark name '" + name.substr(0, 60) + "'");
    } else if (l.contains("index") && l["index"].is_number_integer()) {
      idx = l["index"].get<int>();
      if (*idx < 0 || *idx >= kNumTraced) throw fail(where + ": index out of range");
    } else {
      throw fail(where + ": needs a \"name\" or an \"index\"");
    }
    const std::string what = where + " (" + std::string(landmark_name(*idx)) + ")";
    if (!seen.insert(*idx).second) throw fail(what + ": the landmark appears twice");
    if (l.contains("available") && l["available"] == false) continue;  // marked absent
    const json x = l.value("x", json()), y = l.value("y", json());
    if (x.is_null() || y.is_null()) continue;  // not predicted
    const auto fx = finite_number(x), fy = finite_number(y);
    if (!fx || !fy) throw fail(what + ": x and y must be finite numbers");
    out.points[*idx] = cv::Point2d(*fx, *fy);
    out.low_confidence[*idx] = l.value("confidence", json()) == "low";
  }
  if (r.contains("pixel_spacing_mm") && !r["pixel_spacing_mm"].is_null()) {
    const auto s = finite_number(r["pixel_spacing_mm"]);
    if (!s) throw fail("pixel_spacing_mm must be a number");
    try {
      check_pixel_spacing(*s, "pixel_spacing_mm");
    } catch (const LimitError& e) {
      throw fail(e.what());
    }
    out.pixel_spacing_mm = s;
  }
  if (r.contains("orientation") && r["orientation"].is_string()) {
    const auto o = r["orientation"].get<std::string>();
    if (o == "left") out.orientation = Orientation::FacingLeft;
    if (o == "right") out.orientation = Orientation::FacingRight;
  }
  return out;
}

std::string source_of(const json& r) {
  return r.is_object() && r.contains("source") && r["source"].is_string() ? r["source"].get<std::string>() : "";
}

}  // namespace

OriginalImageLandmarks landmarks_from_result(const PredictionResult& result) {
  OriginalImageLandmarks out;
  for (const auto& l : result.landmarks) {
    if (l.index < 0 || l.index >= kNumTraced) continue;
    out.points[l.index] = cv::Point2d(l.x, l.y);
    out.low_confidence[l.index] = l.confidence == "low";
  }
  out.pixel_spacing_mm = result.pixel_spacing_mm;
  out.orientation = result.orientation;
  return out;
}

std::vector<PredictJsonEntry> read_predict_json(const json& j, const std::string& origin) {
  const std::string file = origin.empty() ? "" : origin + ": ";
  if (!j.is_object()) throw GroundTruthError(file + "expected a prediction result or a batch object");
  if (j.contains("landmarks")) {
    const auto fail = [&](const std::string& why) { return GroundTruthError(file + why); };
    return {{"", source_of(j), read_result(j, fail)}};
  }
  std::vector<PredictJsonEntry> out;
  for (const auto& item : j.items()) {
    // Named variables: clang before 16 cannot capture structured bindings in a lambda (C++20).
    const std::string key = item.key();
    const auto& result = item.value();
    const auto fail = [&](const std::string& why) { return GroundTruthError(file + "entry '" + key + "': " + why); };
    out.push_back({key, source_of(result), read_result(result, fail)});
  }
  return out;
}

}  // namespace cephtrace
