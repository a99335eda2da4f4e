// An ONNX model loaded with OpenCV DNN whose tensor shapes were checked against
// its contract at load time, so a wrong file fails early with a clear message.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/dnn.hpp>

#include "cephtrace/model_contract.hpp"  // ModelError, ModelContract

namespace cephtrace {

// What the ONNX file itself declares (read from the protobuf, without OpenCV).
struct OnnxFileInfo {
  // Dimensions of the first real graph input / first graph output; -1 for a
  // symbolic or absent dimension.
  std::vector<long long> input_shape;
  std::vector<long long> output_shape;
  std::vector<std::string> op_types;  // distinct node op types, in first-use order
  bool has_external_data = false;
};

// Parses the graph header of an ONNX file's bytes (`file` names it in errors). Throws
// ModelError if it is not ONNX.
OnnxFileInfo inspect_onnx(std::string_view data, const std::filesystem::path& file);

std::string shape_to_string(const std::vector<int>& shape);

class OnnxModel {
 public:
  // Loads `file`, checks it against `contract` and prepares it for inference.
  // `use_gpu` selects the CUDA backend (throws ModelError when this OpenCV build has
  // none). With `allow_other_channel_count`, an output that differs from the contract
  // only in its channel count is accepted (zone models: the zone then fails at run time,
  // as in the reference, instead of failing the whole load).
  static OnnxModel load(const std::filesystem::path& file, const ModelContract& contract,
                        bool use_gpu = false, bool allow_other_channel_count = false);

  // True when the output shape is one the contract allows.
  bool output_matches_contract() const;

  // Runs the network on an NCHW (or N×F) float blob with the contract input shape.
  // Returns the first output. Not thread-safe (OpenCV nets are stateful).
  cv::Mat forward(const cv::Mat& input);

  // OpenCV keeps every layer's buffers at the size of the last forward until the next one
  // (tens of MiB for an image network). This runs the network once on a small input (one
  // item, 1/8 of each side) so that they shrink to that size; the next forward allocates
  // them again. The pipeline calls it when a stage is done with its networks, so that the
  // peak memory holds one stage's buffers instead of all of them.
  void release_buffers();
  static constexpr int kReleaseDivisor = 8;

  const std::vector<int>& input_shape() const { return input_shape_; }
  const std::vector<int>& output_shape() const { return output_shape_; }
  const std::filesystem::path& file() const { return file_; }
  const ModelContract& contract() const { return *contract_; }

 private:
  cv::dnn::Net net_;
  std::vector<int> input_shape_;
  std::vector<int> output_shape_;
  std::filesystem::path file_;
  const ModelContract* contract_ = nullptr;
};

// True when this OpenCV build can run DNN models on a CUDA device right now.
bool gpu_backend_available();

}  // namespace cephtrace
