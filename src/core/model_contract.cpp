#include "cephtrace/model_contract.hpp"

#include <stdexcept>

#include "cephtrace/constants.hpp"
#include "cephtrace/landmarks.hpp"

namespace cephtrace {

const std::array<ModelContract, kNumModels>& model_contracts() {
  static const std::array<ModelContract, kNumModels> table{{
      {ModelKey::Profile, "profile", "stage0/v4_stage0_profile.onnx", {1, 1, 512, 512},
       {{1, 1, 512, 512}, {1, 2, 512, 512}}, 25.55},
      {ModelKey::Zone1, "zone1", "stage0/z1_cranial_base_contours.onnx", {1, 1, 256, 256},
       {{1, 1, 256, 256}}, 25.55},
      {ModelKey::Zone2, "zone2", "stage0/z2_midface_contours.onnx", {1, 1, 256, 256},
       {{1, 2, 256, 256}}, 25.55},
      {ModelKey::Zone3, "zone3", "stage0/z3_mandible_contours.onnx", {1, 1, 256, 256},
       {{1, 3, 256, 256}}, 25.55},
      {ModelKey::Zone4, "zone4", "stage0/z4_posterior_contours.onnx", {1, 1, 256, 256},
       {{1, 2, 256, 256}}, 25.55},
      {ModelKey::Derive, "derive", "stage0/phase0e_model.onnx", {1, 14}, {{1, 36}}, 0.43},
      {ModelKey::Stage1, "stage1", "stage1/v4_stage1.onnx", {1, 28, 512, 512},
       {{1, 25, 256, 256}}, 123.93},
  }};
  return table;
}

const ModelContract& refine_contract() {
  namespace k = constants;
  static const ModelContract contract{
      ModelKey::Refine, "refine", "stage2/refine.onnx",
      {kNumLandmarks, 1, k::kRefinePatch, k::kRefinePatch},
      {{kNumLandmarks, kNumLandmarks, k::kRefineHeatmap, k::kRefineHeatmap}}, 0.0};
  return contract;
}

const ModelContract& extended_contract() {
  namespace k = constants;
  static const ModelContract contract{
      ModelKey::Extended, "extended", "extended/refine_extended.onnx",
      {kNumExtended, 1, k::kRefinePatch, k::kRefinePatch},
      {{kNumExtended, kNumExtended, k::kRefineHeatmap, k::kRefineHeatmap}}, 0.0};
  return contract;
}

std::string refine_model_path(int member) {
  return member == 1 ? std::string(refine_contract().relative_path)
                     : "stage2/refine_" + std::to_string(member) + ".onnx";
}

std::string refine_model_name(int member) {
  return member == 1 ? std::string(refine_contract().name) : "refine_" + std::to_string(member);
}

const ModelContract& model_contract(ModelKey key) {
  if (key == ModelKey::Refine) return refine_contract();
  if (key == ModelKey::Extended) return extended_contract();
  for (const auto& c : model_contracts())
    if (c.key == key) return c;
  throw std::logic_error("unknown model key");
}

const ZoneClasses& zone_classes(int zone_index) {
  static const auto table = std::to_array<ZoneClasses>({  // z1..z4, from tables.def
#define CEPHTRACE_ZONE_CLASSES(zone, ...) {{__VA_ARGS__}},
#include "cephtrace/tables.def"
  });
  static_assert(std::tuple_size_v<decltype(table)> == 4);
  return table.at(zone_index);
}

}  // namespace cephtrace
