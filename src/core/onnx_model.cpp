#include "core/onnx_model.hpp"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#if defined(__unix__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <opencv2/core/cuda.hpp>

namespace cephtrace {
namespace {

// Minimal protobuf wire-format reader: just enough of onnx.proto to read the
// graph's input/output shapes and node types without a protobuf dependency.
class ProtoReader {
 public:
  ProtoReader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  bool done() const { return p_ >= end_; }

  // Reads the next field header; returns false at the end or on malformed data.
  bool next(uint32_t& field, uint32_t& wire) {
    if (done()) return false;
    uint64_t key;
    if (!varint(key)) return false;
    field = static_cast<uint32_t>(key >> 3);
    wire = static_cast<uint32_t>(key & 7);
    return field != 0;
  }
  bool varint(uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      const uint8_t byte = *p_++;
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return true;
    }
    return false;
  }
  // Length-delimited payload.
  bool bytes(std::string_view& out) {
    uint64_t len;
    if (!varint(len) || len > static_cast<uint64_t>(end_ - p_)) return false;
    out = std::string_view(reinterpret_cast<const char*>(p_), len);
    p_ += len;
    return true;
  }
  bool skip(uint32_t wire) {
    uint64_t v;
    std::string_view s;
    switch (wire) {
      case 0: return varint(v);
      case 1: return advance(8);
      case 2: return bytes(s);
      case 5: return advance(4);
      default: return false;
    }
  }

 private:
  bool advance(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }
  const uint8_t* p_;
  const uint8_t* end_;
};

ProtoReader reader_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

struct ValueInfo {
  std::string name;
  std::vector<long long> dims;
};

// ValueInfoProto{name=1, type=2{tensor_type=1{shape=2{dim=1{dim_value=1,dim_param=2}}}}}
bool parse_value_info(std::string_view msg, ValueInfo& out) {
  auto r = reader_of(msg);
  uint32_t f, w;
  while (r.next(f, w)) {
    std::string_view s;
    if (f == 1 && w == 2) {
      if (!r.bytes(s)) return false;
      out.name = std::string(s);
    } else if (f == 2 && w == 2) {
      if (!r.bytes(s)) return false;
      auto type = reader_of(s);
      uint32_t tf, tw;
      while (type.next(tf, tw)) {
        std::string_view tensor;
        if (tf != 1 || tw != 2) {
          if (!type.skip(tw)) return false;
          continue;
        }
        if (!type.bytes(tensor)) return false;
        auto t = reader_of(tensor);
        uint32_t sf, sw;
        while (t.next(sf, sw)) {
          std::string_view shape;
          if (sf != 2 || sw != 2) {
            if (!t.skip(sw)) return false;
            continue;
          }
          if (!t.bytes(shape)) return false;
          auto sh = reader_of(shape);
          uint32_t df, dw;
          while (sh.next(df, dw)) {
            std::string_view dim;
            if (df != 1 || dw != 2) {
              if (!sh.skip(dw)) return false;
              continue;
            }
            if (!sh.bytes(dim)) return false;
            long long value = -1;
            auto d = reader_of(dim);
            uint32_t vf, vw;
            while (d.next(vf, vw)) {
              uint64_t v;
              if (vf == 1 && vw == 0) {
                if (!d.varint(v)) return false;
                value = static_cast<long long>(v);
              } else if (!d.skip(vw)) {
                return false;
              }
            }
            out.dims.push_back(value > 0 ? value : -1);
          }
        }
      }
    } else if (!r.skip(w)) {
      return false;
    }
  }
  return true;
}

std::string dims_to_string(const std::vector<long long>& dims) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) os << ",";
    if (dims[i] < 0) os << "?"; else os << dims[i];
  }
  os << ")";
  return os.str();
}

}  // namespace

std::string shape_to_string(const std::vector<int>& shape) {
  return dims_to_string(std::vector<long long>(shape.begin(), shape.end()));
}

namespace {
// The model file's bytes, parsed twice: by inspect_onnx and by OpenCV. Mapped rather than
// read where the system can: the pages come straight from the file cache in one call
// (MAP_POPULATE) instead of being faulted in and copied one by one, which was most of the
// model load on a virtual machine (docs/benchmark.md, session 13).
class ModelBytes {
 public:
  explicit ModelBytes(const std::filesystem::path& file) {
#if defined(__unix__)
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw ModelError(file.string() + ": cannot open model file");
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (p != MAP_FAILED) {
        mapped_ = p;
        size_ = static_cast<size_t>(st.st_size);
      }
    }
    ::close(fd);
    if (mapped_ || st.st_size == 0) return;
#endif
    std::ifstream in(file, std::ios::binary | std::ios::ate);
    if (!in) throw ModelError(file.string() + ": cannot open model file");
    read_.assign(static_cast<size_t>(in.tellg()), '\0');
    in.seekg(0);
    if (!in.read(read_.data(), static_cast<std::streamsize>(read_.size())))
      throw ModelError(file.string() + ": cannot read model file");
  }
  ~ModelBytes() {
#if defined(__unix__)
    if (mapped_) ::munmap(mapped_, size_);
#endif
  }
  ModelBytes(const ModelBytes&) = delete;
  ModelBytes& operator=(const ModelBytes&) = delete;
  std::string_view view() const {
    return mapped_ ? std::string_view(static_cast<const char*>(mapped_), size_) : std::string_view(read_);
  }

 private:
  void* mapped_ = nullptr;
  size_t size_ = 0;
  std::string read_;
};
}  // namespace

OnnxFileInfo inspect_onnx(std::string_view data, const std::filesystem::path& file) {
  if (data.empty()) throw ModelError(file.string() + ": model file is empty (0 bytes)");
  const std::string not_onnx = file.string() + ": not a valid ONNX model (corrupt or truncated file)";

  OnnxFileInfo info;
  auto model = reader_of(data);
  uint32_t f, w;
  std::string_view graph;
  bool found_graph = false;
  while (model.next(f, w)) {
    if (f == 7 && w == 2) {
      if (!model.bytes(graph)) throw ModelError(not_onnx);
      found_graph = true;
    } else if (!model.skip(w)) {
      throw ModelError(not_onnx);
    }
  }
  if (!found_graph || !model.done()) throw ModelError(not_onnx);

  std::set<std::string> initializers;
  std::vector<ValueInfo> inputs, outputs;
  std::set<std::string> seen_ops;
  auto g = reader_of(graph);
  while (g.next(f, w)) {
    std::string_view s;
    if (w != 2) {
      if (!g.skip(w)) throw ModelError(not_onnx);
      continue;
    }
    if (!g.bytes(s)) throw ModelError(not_onnx);
    if (f == 1) {  // NodeProto: op_type = 4
      auto n = reader_of(s);
      uint32_t nf, nw;
      while (n.next(nf, nw)) {
        std::string_view v;
        if (nf == 4 && nw == 2) {
          if (!n.bytes(v)) throw ModelError(not_onnx);
          if (seen_ops.insert(std::string(v)).second) info.op_types.emplace_back(v);
        } else if (!n.skip(nw)) {
          throw ModelError(not_onnx);
        }
      }
    } else if (f == 5) {  // TensorProto: name = 8, data_location = 14
      auto t = reader_of(s);
      uint32_t tf, tw;
      while (t.next(tf, tw)) {
        std::string_view v;
        uint64_t loc;
        if (tf == 8 && tw == 2) {
          if (!t.bytes(v)) throw ModelError(not_onnx);
          initializers.insert(std::string(v));
        } else if (tf == 14 && tw == 0) {
          if (!t.varint(loc)) throw ModelError(not_onnx);
          if (loc == 1) info.has_external_data = true;
        } else if (!t.skip(tw)) {
          throw ModelError(not_onnx);
        }
      }
    } else if (f == 11 || f == 12) {
      ValueInfo vi;
      if (!parse_value_info(s, vi)) throw ModelError(not_onnx);
      (f == 11 ? inputs : outputs).push_back(std::move(vi));
    }
  }
  // Old exporters list initializers as graph inputs too; the real input is the other one.
  for (const auto& vi : inputs)
    if (!initializers.count(vi.name)) {
      info.input_shape = vi.dims;
      break;
    }
  if (!outputs.empty()) info.output_shape = outputs.front().dims;
  if (info.input_shape.empty() || outputs.empty())
    throw ModelError(file.string() + ": ONNX graph declares no input or no output");
  return info;
}

bool gpu_backend_available() {
  try {
    return cv::cuda::getCudaEnabledDeviceCount() > 0;
  } catch (const cv::Exception&) {
    return false;
  }
}

namespace {
bool shape_allowed(const ModelContract& contract, const std::vector<int>& shape) {
  return std::find(contract.allowed_output_shapes.begin(), contract.allowed_output_shapes.end(),
                   shape) != contract.allowed_output_shapes.end();
}
// Same shape except (possibly) dimension 1, the channel count.
bool same_but_channels(const ModelContract& contract, const std::vector<int>& shape) {
  for (const auto& allowed : contract.allowed_output_shapes) {
    if (allowed.size() != shape.size() || shape.size() < 2) continue;
    bool same = true;
    for (size_t i = 0; i < shape.size(); ++i)
      if (i != 1 && allowed[i] != shape[i]) same = false;
    if (same) return true;
  }
  return false;
}
}  // namespace

bool OnnxModel::output_matches_contract() const {
  return contract_ && shape_allowed(*contract_, output_shape_);
}

OnnxModel OnnxModel::load(const std::filesystem::path& file, const ModelContract& contract,
                          bool use_gpu, bool allow_other_channel_count) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw ModelError(file.string() + ": model file not found (" + std::string(contract.name) +
                     " model, expected at <model-dir>/" + std::string(contract.relative_path) +
                     ")");
  for (const char* suffix : {".data", "_data"}) {
    auto sidecar = file;
    sidecar += suffix;
    if (std::filesystem::exists(sidecar, ec))
      throw ModelError(file.string() +
                       ": models with external data sidecars are not supported (found " +
                       sidecar.string() + ")");
  }
  const ModelBytes bytes(file);
  const std::string_view data = bytes.view();
  const OnnxFileInfo info = inspect_onnx(data, file);
  if (info.has_external_data)
    throw ModelError(file.string() + ": model stores weights in external data files; "
                                     "re-export it as a single .onnx file");

  const std::string expected_in = shape_to_string(contract.input_shape);
  // Compare the declared input shape; symbolic dimensions (e.g. a dynamic batch) must
  // still be compatible with the contract value.
  bool input_ok = info.input_shape.size() == contract.input_shape.size();
  for (size_t i = 0; input_ok && i < info.input_shape.size(); ++i)
    input_ok = info.input_shape[i] < 0 || info.input_shape[i] == contract.input_shape[i];
  if (!input_ok)
    throw ModelError(file.string() + ": wrong input shape for the " + std::string(contract.name) +
                     " model: expected " + expected_in + ", file declares " +
                     dims_to_string(info.input_shape));

  OnnxModel model;
  model.file_ = file;
  model.contract_ = &contract;
  model.input_shape_ = contract.input_shape;
  try {
    model.net_ = cv::dnn::readNetFromONNX(data.data(), data.size());
  } catch (const cv::Exception& e) {
    std::string ops;
    for (const auto& op : info.op_types) ops += (ops.empty() ? "" : ", ") + op;
    std::string hint;
    if (std::find(info.op_types.begin(), info.op_types.end(), "Identity") != info.op_types.end())
      hint = "; OpenCV 4.6 rejects Identity nodes fed by initializers (common in PyTorch "
             "exports): fix the file with tools/fix_onnx_for_opencv.py";
    throw ModelError(file.string() + ": OpenCV DNN cannot load this model: " + e.msg +
                     " (node types in the file: " + ops + ")" + hint);
  }
  if (model.net_.empty()) throw ModelError(file.string() + ": OpenCV DNN loaded an empty network");

  if (use_gpu) {
    if (!gpu_backend_available())
      throw ModelError("--gpu: this OpenCV build has no usable CUDA device/backend "
                       "(OpenCV DNN " CV_VERSION "); run without --gpu");
    model.net_.setPreferableBackend(cv::dnn::DNN_BACKEND_CUDA);
    model.net_.setPreferableTarget(cv::dnn::DNN_TARGET_CUDA);
  } else {
    model.net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    model.net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  }

  // Output shape: what the file declares when concrete, else OpenCV's shape inference.
  std::vector<int> out_shape;
  const bool declared = !info.output_shape.empty() &&
                        std::all_of(info.output_shape.begin(), info.output_shape.end(),
                                    [](long long d) { return d > 0; });
  if (declared) {
    out_shape.assign(info.output_shape.begin(), info.output_shape.end());
  } else {
    try {
      std::vector<cv::dnn::MatShape> in_shapes, out_shapes;
      const auto outs = model.net_.getUnconnectedOutLayers();
      model.net_.getLayerShapes(cv::dnn::MatShape(contract.input_shape), outs.at(0), in_shapes,
                                out_shapes);
      if (!out_shapes.empty()) out_shape = out_shapes.front();
    } catch (const cv::Exception& e) {
      throw ModelError(file.string() + ": cannot infer the output shape: " + e.msg);
    }
  }
  const bool output_ok = shape_allowed(contract, out_shape) ||
                         (allow_other_channel_count && same_but_channels(contract, out_shape));
  if (!output_ok) {
    std::string expected;
    for (const auto& s : contract.allowed_output_shapes)
      expected += (expected.empty() ? "" : " or ") + shape_to_string(s);
    throw ModelError(file.string() + ": wrong output shape for the " + std::string(contract.name) +
                     " model: expected " + expected + ", got " + shape_to_string(out_shape));
  }
  model.output_shape_ = out_shape;
  return model;
}

cv::Mat OnnxModel::forward(const cv::Mat& input) {
  try {
    net_.setInput(input);
    return net_.forward().clone();
  } catch (const cv::Exception& e) {
    throw ModelError(file_.string() + ": inference failed: " + e.msg);
  }
}

void OnnxModel::release_buffers() {
  if (input_shape_.size() != 4) return;  // an MLP's buffers are a few KiB
  std::vector<int> small = input_shape_;
  small[0] = 1;
  for (int d : {2, 3}) small[d] = std::max(1, small[d] / kReleaseDivisor);
  try {
    net_.setInput(cv::Mat(4, small.data(), CV_32F, cv::Scalar(0)));
    net_.forward();
  } catch (const cv::Exception&) {
    // The buffers stay as they were: memory, not results, is at stake.
  }
}

}  // namespace cephtrace
