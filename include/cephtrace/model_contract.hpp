// The seven model files of spec §2: where they live and the tensor shapes they must have.
#pragma once

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cephtrace {

// Raised for any problem with a model file; the message names the file.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The seven published files, then our optional Stage 2 and extended model (not part of the
// published layout).
enum class ModelKey { Profile, Zone1, Zone2, Zone3, Zone4, Derive, Stage1, Refine, Extended };
// The published seven: every key before Refine (tied to the enum so the two cannot drift).
inline constexpr int kNumModels = static_cast<int>(ModelKey::Refine);

struct ModelContract {
  ModelKey key;
  std::string_view name;           // "profile", "zone1", ... "stage1"
  std::string_view relative_path;  // under the model directory
  std::vector<int> input_shape;
  std::vector<std::vector<int>> allowed_output_shapes;
  double published_size_mb;        // size of the published file (for download checks)
};

const std::array<ModelContract, kNumModels>& model_contracts();
const ModelContract& model_contract(ModelKey key);

// Stage 2 local refinement (ours, optional): stage2/refine.onnx, (25,1,128,128) patches in,
// (25,25,64,64) heatmaps out. Not downloaded; the published seven run without it.
const ModelContract& refine_contract();

// Further Stage 2 models beside it, stage2/refine_2.onnx, refine_3.onnx, … (numbered without
// gaps, same contract), make an ensemble with refine.onnx: each pass averages their positions.
inline constexpr int kMaxRefineModels = 8;
std::string refine_model_path(int member);  // 1 → "stage2/refine.onnx", n → "stage2/refine_<n>.onnx"
std::string refine_model_name(int member);  // 1 → "refine", n → "refine_<n>"

// The extended model (ours, optional): extended/refine_extended.onnx, Stage 2's design for the
// 14 EXTENDED_14 landmarks: (14,1,128,128) patches in, (14,14,64,64) heatmaps out.
const ModelContract& extended_contract();

// Zone models: number of output classes and their names (spec §2).
struct ZoneClasses {
  std::vector<std::string_view> names;
};
const ZoneClasses& zone_classes(int zone_index /*0..3 for z1..z4*/);

}  // namespace cephtrace
