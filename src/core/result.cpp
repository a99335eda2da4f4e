#include "cephtrace/result.hpp"

#include <nlohmann/json.hpp>

namespace cephtrace {

std::string_view orientation_name(Orientation o) {
  return o == Orientation::FacingLeft ? "left" : "right";
}

namespace {

nlohmann::ordered_json to_json(const FramingReport& f) {
  nlohmann::ordered_json j;
  if (!f.applied) {
    j = {{"applied", false}, {"reason", f.reason}};
  } else {
    j = {{"applied", true},
         {"scale", f.scale},
         {"rotation_deg", f.rotation_deg},
         {"canvas", {f.canvas_width, f.canvas_height}},
         {"residual_mm", f.residual_mm},
         {"inliers", f.inliers},
         {"inverted", f.inverted},
         {"coarse_mean_peak", f.coarse_mean_peak}};
  }
  if (f.content_box) j["content_box"] = *f.content_box;
  return j;
}

}  // namespace

std::string_view stage_name(TimedStage stage) {
  switch (stage) {
    case TimedStage::LoadImage: return "load_image";
    case TimedStage::Framing: return "framing";
    case TimedStage::Orientation: return "orientation";
    case TimedStage::Stage0A: return "stage0_0A";
    case TimedStage::Stage0B: return "stage0_0B";
    case TimedStage::Stage0C: return "stage0_0C";
    case TimedStage::Stage0D: return "stage0_0D";
    case TimedStage::Stage0E: return "stage0_0E";
    case TimedStage::Stage0: return "stage0";
    case TimedStage::Stage1Preprocess: return "stage1_preprocess";
    case TimedStage::Stage1: return "stage1";
    case TimedStage::Stage2: return "stage2";
    case TimedStage::Extended: return "extended";
    case TimedStage::Total: return "total";
  }
  return "";
}

double PredictionResult::time_ms(TimedStage stage) const {
  for (const auto& [s, ms] : timings_ms)
    if (s == stage) return ms;
  return 0;
}

nlohmann::ordered_json to_json(const PredictionResult& r) {
  using ordered = nlohmann::ordered_json;
  ordered j;
  j["original_width"] = r.original_width;
  j["original_height"] = r.original_height;
  j["degraded"] = r.degraded;
  j["degraded_reasons"] = r.degraded_reasons;
  j["stage0_status"] = r.stage0_status;
  auto& details = j["stage0_details"] = ordered::object();
  for (const auto& [phase, text] : r.stage0_details) details[phase] = ordered::parse(text);
  auto& lms = j["landmarks"] = ordered::array();
  for (const auto& l : r.landmarks) {
    ordered lm{{"index", l.index},
               {"name", l.name},
               {"x", l.x},
               {"y", l.y},
               {"peak", l.peak},
               {"confidence_score", l.confidence_score},
               {"confidence", l.confidence},
               {"tier", tier_name(l.tier)}};
    if (l.relocated) lm["relocated"] = true;
    if (l.extended) lm["extended"] = true;
    if (l.refinement)
      lm["refinement"] = ordered{{"applied", l.refinement->applied},
                                 {"peak", l.refinement->peak},
                                 {"stage1_x", l.refinement->stage1_x},
                                 {"stage1_y", l.refinement->stage1_y},
                                 {"moved_grid_px", l.refinement->moved_grid_px},
                                 {"spread_grid_px", l.refinement->spread_grid_px}};
    lms.push_back(std::move(lm));
  }
  // Engine additions.
  j["source"] = r.source;
  j["orientation"] = orientation_name(r.orientation);
  j["orientation_detected"] = r.orientation_detected;
  j["orientation_method"] = r.orientation_method;
  j["pixel_spacing_mm"] = r.pixel_spacing_mm ? ordered(*r.pixel_spacing_mm) : ordered();
  j["decoder"] = r.decoder;
  j["priors"] = r.priors;
  j["refinement"] = r.refinement;
  j["confidence_method"] = r.confidence_method;
  if (r.framing) j["framing"] = to_json(*r.framing);
  auto& t = j["timings_ms"] = ordered::object();
  for (const auto& [stage, ms] : r.timings_ms) t[std::string(stage_name(stage))] = ms;
  j["models_loaded"] = r.models_loaded;
  return j;
}

}  // namespace cephtrace
