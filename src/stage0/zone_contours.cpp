// Phase 0C: per-zone contour segmentation and the merge of the four zones (spec §4.3).
#include <algorithm>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "cephtrace/model_contract.hpp"

#include "stage0/stage0_phases.hpp"

namespace cephtrace::stage0 {

namespace c = constants;

std::optional<std::vector<cv::Mat>> zone_class_maps(const cv::Mat& output, int expected_classes) {
  constexpr int kSize = c::kZoneInput;
  if (output.dims != 4 || output.type() != CV_32F || output.size[0] != 1 ||
      output.size[1] != expected_classes || output.size[2] != kSize || output.size[3] != kSize)
    return std::nullopt;
  std::vector<cv::Mat> maps;
  for (int k = 0; k < expected_classes; ++k) {
    const cv::Mat logits(kSize, kSize, CV_32F, const_cast<float*>(output.ptr<float>(0, k)));
    maps.push_back(logits > 0.0f);  // sigmoid > 0.5  ⇔  logit > 0
  }
  return maps;
}

ClassContour extract_class_contour(const cv::Mat& class_map256, const ZoneBox& zone) {
  constexpr int kSize = c::kStage0Size;
  const cv::Rect rect(zone.x1, zone.y1, zone.x2 - zone.x1, zone.y2 - zone.y1);
  if (class_map256.empty() || rect.empty() || (rect & cv::Rect(0, 0, kSize, kSize)) != rect)
    return {};

  cv::Mat zone_map;
  cv::resize(cv::Mat(class_map256 != 0), zone_map, rect.size(), 0, 0, cv::INTER_NEAREST);
  cv::Mat canvas = cv::Mat::zeros(kSize, kSize, CV_8U);
  zone_map.copyTo(canvas(rect));
  const cv::Mat ellipse = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(3, 3));
  cv::morphologyEx(canvas, canvas, cv::MORPH_CLOSE, ellipse);
  cv::morphologyEx(canvas, canvas, cv::MORPH_OPEN, ellipse);

  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(canvas, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  const std::vector<cv::Point>* best = nullptr;
  for (const auto& contour : contours) {
    const bool big_enough = cv::contourArea(contour) >= c::kMinContourArea ||
                            static_cast<int>(contour.size()) >= c::kMinContourPoints;
    if (big_enough && (!best || contour.size() > best->size())) best = &contour;
  }
  ClassContour result;
  if (!best) return result;
  result.contour512 = *best;
  result.mask512 = cv::Mat::zeros(kSize, kSize, CV_8U);
  cv::drawContours(result.mask512, std::vector<std::vector<cv::Point>>{*best}, 0, 255, cv::FILLED);
  return result;
}

ZoneSegmentation segment_zone_output(const cv::Mat& output, const ZoneBox& zone, int zone_index) {
  ZoneSegmentation seg;
  const int expected = static_cast<int>(zone_classes(zone_index).names.size());
  const auto maps = zone_class_maps(output, expected);
  if (!maps) {
    std::vector<int> shape(output.size.p, output.size.p + output.dims);
    seg.error = "wrong output shape " + shape_to_string(shape) + " (expected " +
                shape_to_string({1, expected, c::kZoneInput, c::kZoneInput}) + ")";
    return seg;
  }
  for (const auto& map : *maps) seg.classes.push_back(extract_class_contour(map, zone));
  seg.ran = true;
  return seg;
}

ZoneSegmentation segment_zone(OnnxModel* model, const cv::Mat& clahe_crop, const ZoneBox& zone,
                              int zone_index) {
  ZoneSegmentation failed;
  if (!model) {
    failed.error = "model not loaded";
    return failed;
  }
  if (clahe_crop.empty()) {
    failed.error = "empty zone crop";
    return failed;
  }
  cv::Mat resized;
  cv::resize(clahe_crop, resized, cv::Size(c::kZoneInput, c::kZoneInput), 0, 0, cv::INTER_LINEAR);
  try {
    return segment_zone_output(model->forward(cv::dnn::blobFromImage(resized, 1.0 / 255.0)), zone,
                               zone_index);
  } catch (const std::exception& e) {  // ModelError or cv::Exception: a failed zone, not a crash
    failed.error = e.what();
    return failed;
  }
}

ContourSet merge_zone_contours(const std::array<ZoneSegmentation, 4>& zones) {
  // The class's contour from zone `z` (0-based) when that zone ran and found it.
  auto from_zone = [&](int z, std::string_view name) -> const ClassContour* {
    if (!zones[z].ran) return nullptr;
    const auto& names = zone_classes(z).names;
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) return nullptr;
    const size_t k = static_cast<size_t>(it - names.begin());
    if (k >= zones[z].classes.size() || zones[z].classes[k].contour512.empty()) return nullptr;
    return &zones[z].classes[k];
  };
  // Each class with the zones to take it from, in order of preference.
  const std::pair<std::string_view, std::vector<int>> sources[] = {
      {"cranial_base", {0, 3}},       {"mandibular_border", {2, 3}},
      {"palatal_plane", {1}},         {"upper_incisor_axis", {1}},
      {"mandibular_symphysis", {2}},  {"lower_incisor_axis", {2}},
  };
  ContourSet merged;
  for (const auto& [name, zone_order] : sources)
    for (int z : zone_order)
      if (const ClassContour* found = from_zone(z, name)) {
        merged.emplace(std::string(name), *found);
        break;
      }
  return merged;
}

}  // namespace cephtrace::stage0
