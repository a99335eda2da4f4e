// Stage 0 orchestration: phases 0A–0E, their status flags, details and timings (spec §4).
#include "stage0/stage0.hpp"

#include <chrono>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "stage0/stage0_phases.hpp"

namespace cephtrace {

namespace c = constants;
using nlohmann::json;

namespace {

constexpr const char* kPhases[] = {"0A", "0B", "0C", "0D", "0E"};
constexpr const char* kZoneNames[] = {"z1", "z2", "z3", "z4"};

class PhaseTimer {
 public:
  PhaseTimer(Stage0Output& out, const char* phase) : out_(out), phase_(phase) {}
  ~PhaseTimer() {
    const std::chrono::duration<double, std::milli> elapsed = Clock::now() - start_;
    out_.timings_ms.emplace_back(phase_, elapsed.count());
  }

 private:
  using Clock = std::chrono::steady_clock;
  Stage0Output& out_;
  const char* phase_;
  Clock::time_point start_ = Clock::now();
};

// Details of a phase that did not run, with the spec keys describing "nothing found".
json skipped_details(std::string_view phase, const std::string& reason) {
  json d;
  if (phase == "0A") {
    d = {{"mask_nonzero_pixels", 0}, {"empty_mask_threshold", c::kEmptyMaskThreshold}};
  } else if (phase == "0B") {
    d = {{"soft_tissue_found", 0},
         {"soft_tissue_expected", c::kSoftTissueExpected},
         {"missing", stage0::SoftTissuePoints{}.missing()},
         {"used_fallback_zones", false}};
  } else if (phase == "0C") {
    d = {{"primary_present", 0},
         {"primary_expected", c::kPrimaryExpected},
         {"missing", std::vector<std::string>(stage0::kPrimaryClasses.begin(),
                                              stage0::kPrimaryClasses.end())}};
  } else if (phase == "0D") {
    d = {{"anchors_found", 0}, {"anchors_expected", c::kAnchorsExpected}, {"missing", stage0::Anchors{}.missing()}};
  } else {
    d = {{"mlp_ran", false}};
  }
  d["skipped"] = reason;
  return d;
}

// Every phase without details yet is recorded as skipped (its status stays false).
void skip_remaining(Stage0Output& out, const std::string& reason) {
  for (const char* phase : kPhases)
    if (!out.details.contains(phase)) out.details[phase] = skipped_details(phase, reason);
}

cv::Point2d to_original(cv::Point p, double scale_x, double scale_y) {
  return {p.x * scale_x, p.y * scale_y};
}

// 8-bit single-channel copy of whatever the caller passed (never throws on content).
cv::Mat as_grey8(const cv::Mat& image) {
  cv::Mat grey = image;
  if (image.channels() == 3) cv::cvtColor(image, grey, cv::COLOR_BGR2GRAY);
  if (image.channels() == 4) cv::cvtColor(image, grey, cv::COLOR_BGRA2GRAY);
  if (grey.channels() != 1) return {};
  if (grey.depth() != CV_8U) cv::normalize(grey, grey, 0, 255, cv::NORM_MINMAX, CV_8U);
  return grey;
}

}  // namespace

namespace stage0 {

void run_stage0_after_mask(const cv::Mat& proc512, const cv::Mat& mask512, cv::Size original,
                           Stage0Models& models, const Stage0Options& options,
                           Stage0Output& out) {
  const double scale_x = original.width / double(c::kStage0Size);
  const double scale_y = original.height / double(c::kStage0Size);
  out.profile_mask512 = mask512 != 0;

  // 0B: profile features, soft-tissue points, zones and their CLAHE.
  ProfileFeatures features;
  SoftTissuePoints soft;
  std::array<ZoneBox, 5> zones;
  std::array<cv::Mat, 4> zone_crops;  // CLAHE'd z1..z4 (z5 feeds no model)
  {
    PhaseTimer timer(out, "0B");
    features = compute_profile_features(mask512);
    soft = find_soft_tissue_points(features);
    zones = compute_zones(features);
    for (int z = 0; z < 4; ++z) zone_crops[z] = apply_zone_clahe(proc512, zones[z], z);
    json zone_list = json::array();
    for (const auto& b : zones) zone_list.push_back({b.x1, b.y1, b.x2, b.y2});
    out.status["0B"] = features.valid && soft.found() == c::kSoftTissueExpected;
    out.details["0B"] = {{"soft_tissue_found", soft.found()},
                         {"soft_tissue_expected", c::kSoftTissueExpected},
                         {"missing", soft.missing()},
                         {"used_fallback_zones", !features.valid},
                         {"zones", zone_list}};
  }

  // 0C: zone contours, merged.
  ContourSet contours;
  {
    PhaseTimer timer(out, "0C");
    std::array<ZoneSegmentation, 4> segmentations;
    json zone_errors = json::object();
    for (int z = 0; z < 4; ++z) {
      segmentations[z] = segment_zone(models.zones[z], zone_crops[z], zones[z], z);
      if (!segmentations[z].ran) zone_errors[kZoneNames[z]] = segmentations[z].error;
    }
    contours = merge_zone_contours(segmentations);
    std::vector<std::string> missing;
    for (auto name : kPrimaryClasses) {
      const auto it = contours.find(name);
      if (it == contours.end() || it->second.contour512.size() <= 1) missing.emplace_back(name);
    }
    const int present = c::kPrimaryExpected - static_cast<int>(missing.size());
    out.status["0C"] = present == c::kPrimaryExpected;
    out.details["0C"] = {{"primary_present", present},
                         {"primary_expected", c::kPrimaryExpected},
                         {"missing", missing},
                         {"zone_errors", zone_errors}};
    for (const auto& [name, contour] : contours) {
      std::vector<cv::Point2d> points;
      for (const auto& p : contour.contour512) points.push_back(to_original(p, scale_x, scale_y));
      out.contours.emplace_back(name, std::move(points));
    }
  }

  // 0D: polylines and the seven anchors.
  Anchors anchors;
  {
    PhaseTimer timer(out, "0D");
    std::map<std::string, Polyline, std::less<>> polylines;
    for (const auto& [name, contour] : contours)
      polylines[name] = class_polyline(contour, options.contour_mode, scale_x, scale_y);
    AnchorReferences refs;
    if (features.valid) {
      refs.nose_tip = to_original(features.nose_tip, scale_x, scale_y);
      refs.chin_bottom = to_original(features.chin_bottom, scale_x, scale_y);
    }
    if (soft.prn) refs.prn = to_original(*soft.prn, scale_x, scale_y);
    anchors = extract_anchors(polylines, refs, original);
    out.status["0D"] = anchors.found() == c::kAnchorsExpected;
    out.details["0D"] = {
        {"anchors_found", anchors.found()},
        {"anchors_expected", c::kAnchorsExpected},
        {"missing", anchors.missing()},
        {"contour_mode", options.contour_mode == ContourMode::Reference ? "reference" : "centreline"},
        {"px_per_mm", px_per_mm(original)}};
  }

  // 0E: derived landmarks and the attention maps.
  {
    PhaseTimer timer(out, "0E");
    json details = {{"mlp_ran", false},
                    {"anchors_defaulted", anchors.missing()},  // fed to the MLP as (0.5, 0.5)
                    {"defaulted_anchors_rendered", options.render_defaulted_anchors}};
    std::optional<std::array<cv::Point2d, kNumDerived>> derived;
    if (!models.derive) {
      details["error"] = "derive model not loaded";
    } else {
      try {
        derived = mlp_derived(models.derive->forward(mlp_input(anchors, original)));
        if (!derived) details["error"] = "derive model output is not 36 finite values";
      } catch (const std::exception& e) {
        details["error"] = e.what();
      }
    }
    if (derived) {
      const PriorPositions positions = assemble_prior_positions(
          *derived, anchors, soft, original, options.render_defaulted_anchors);
      out.attention512 = upsample_priors(render_priors256(positions));
      out.priors_available = true;
      for (int k = 0; k < kNumLandmarks; ++k)
        if (positions[k])
          out.prior_positions[k] =
              cv::Point2d(positions[k]->x * original.width, positions[k]->y * original.height);
      details["mlp_ran"] = true;
    }
    out.status["0E"] = derived.has_value();
    out.details["0E"] = details;
  }
}

}  // namespace stage0

Stage0Output run_stage0(const cv::Mat& grey_native, Stage0Models& models,
                        const Stage0Options& options, const cv::Mat& profile_mask512) {
  Stage0Output out;
  for (const char* phase : kPhases) out.status[phase] = false;
  try {
    const cv::Mat grey = grey_native.empty() ? cv::Mat() : as_grey8(grey_native);
    if (grey.empty()) {
      out.details["0A"] = skipped_details("0A", "empty or unsupported image");
      skip_remaining(out, "no usable image");
      return out;
    }
    cv::Mat proc512;
    cv::resize(grey, proc512, cv::Size(c::kStage0Size, c::kStage0Size), 0, 0, cv::INTER_LINEAR);

    // 0A: soft-tissue profile mask.
    cv::Mat mask;
    {
      PhaseTimer timer(out, "0A");
      json details = {{"mask_nonzero_pixels", 0}, {"empty_mask_threshold", c::kEmptyMaskThreshold}};
      if (!profile_mask512.empty()) {
        mask = profile_mask512;
      } else if (!models.profile) {
        details["error"] = "profile model not loaded";
      } else {
        try {
          mask = stage0::profile_mask_from_output(
              models.profile->forward(cv::dnn::blobFromImage(proc512, 1.0 / 255.0)));
          if (mask.empty()) details["error"] = "profile model output has an unexpected shape";
        } catch (const std::exception& e) {
          details["error"] = e.what();
        }
      }
      const int nonzero = mask.empty() ? 0 : cv::countNonZero(mask);
      details["mask_nonzero_pixels"] = nonzero;
      out.status["0A"] = nonzero >= c::kEmptyMaskThreshold;
      out.details["0A"] = details;
    }
    if (!out.status["0A"].get<bool>()) {
      if (!mask.empty()) out.profile_mask512 = mask;
      skip_remaining(out, "no soft-tissue profile mask (phase 0A)");
      return out;
    }
    stage0::run_stage0_after_mask(proc512, mask, grey.size(), models, options, out);
  } catch (const std::exception& e) {  // defensive: report, never throw
    out.attention512.clear();
    out.priors_available = false;
    skip_remaining(out, std::string("internal error: ") + e.what());
  }
  return out;
}

}  // namespace cephtrace
