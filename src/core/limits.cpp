#include "cephtrace/limits.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <unordered_set>
#include <vector>

namespace cephtrace {

namespace fs = std::filesystem;

Limits& limits() {
  static Limits instance;
  return instance;
}

void check_image_size(int64_t width, int64_t height, const std::string& source) {
  const Limits& l = limits();
  const std::string size = std::to_string(width) + "x" + std::to_string(height);
  if (width <= 0 || height <= 0) throw LimitError(source + ": invalid image size " + size);
  if (width > l.max_pixels / height || width * height > l.max_pixels)  // no overflow
    throw LimitError(source + ": image of " + size + " pixels exceeds the limit of " +
                     std::to_string(l.max_pixels) + " pixels (--max-pixels)");
  const double aspect = static_cast<double>(std::max(width, height)) / std::min(width, height);
  if (aspect > l.max_aspect_ratio) {
    std::ostringstream os;
    os << source << ": image of " << size << " has an aspect ratio of " << aspect
       << ", more than " << l.max_aspect_ratio
       << " (--max-aspect-ratio); not a cephalogram the models can read";
    throw LimitError(os.str());
  }
}

void check_file_size(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return;  // not a regular file (a pipe, /dev/stdin): the reader reports problems
  if (static_cast<int64_t>(size) > limits().max_file_bytes)
    throw LimitError(path.string() + ": file of " + std::to_string(size) +
                     " bytes exceeds the limit of " + std::to_string(limits().max_file_bytes >> 20) +
                     " MB (--max-file-mb)");
}

void check_pixel_spacing(double mm, const std::string& what) {
  const Limits& l = limits();
  if (!(mm >= l.min_pixel_spacing_mm && mm <= l.max_pixel_spacing_mm)) {
    std::ostringstream os;
    os << what << ": pixel spacing " << mm << " mm is outside the plausible range "
       << l.min_pixel_spacing_mm << "-" << l.max_pixel_spacing_mm << " mm per pixel";
    throw LimitError(os.str());
  }
}

void check_threads(int n) {
  if (n < 0 || n > limits().max_threads)
    throw LimitError("--threads " + std::to_string(n) + ": must be 0 (one per core) to " +
                     std::to_string(limits().max_threads));
}

void check_bootstrap(int n) {
  if (n < 0 || n > limits().max_bootstrap)
    throw LimitError("--bootstrap " + std::to_string(n) + ": must be 0 to " +
                     std::to_string(limits().max_bootstrap) + " resamples (--max-bootstrap)");
}

namespace {

// SAX pass: depth and duplicate keys, nothing built. nlohmann's SAX driver is iterative,
// so a deep document costs no stack here; the depth check keeps the DOM that follows small.
class JsonChecker {
 public:
  explicit JsonChecker(int max_depth) : max_depth_(max_depth) {}
  std::string problem;
  bool depth_exceeded = false;
  std::vector<std::string> top_keys;  // keys of the outermost object, in file order

  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(nlohmann::json::number_integer_t) { return true; }
  bool number_unsigned(nlohmann::json::number_unsigned_t) { return true; }
  bool number_float(nlohmann::json::number_float_t, const std::string&) { return true; }
  bool string(std::string&) { return true; }
  bool binary(nlohmann::json::binary_t&) { return true; }
  bool start_object(std::size_t) {
    keys_.emplace_back();
    return enter();
  }
  bool key(std::string& k) {
    if (depth_ == 1) top_keys.push_back(k);
    if (keys_.back().insert(k).second) return true;
    problem = "key \"" + k.substr(0, 60) + "\" appears twice in one object";
    return false;
  }
  bool end_object() {
    keys_.pop_back();
    --depth_;
    return true;
  }
  bool start_array(std::size_t) {
    keys_.emplace_back();  // keeps keys_ aligned with the depth; never filled
    return enter();
  }
  bool end_array() { return end_object(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception& e) {
    problem = std::string("not valid JSON (") + e.what() + ")";
    return false;
  }

 private:
  bool enter() {
    if (++depth_ <= max_depth_) return true;
    depth_exceeded = true;
    problem = "JSON nested deeper than " + std::to_string(max_depth_) + " levels (--max-json-depth)";
    return false;
  }
  int max_depth_;
  int depth_ = 0;
  std::vector<std::unordered_set<std::string>> keys_;
};

}  // namespace

nlohmann::json parse_json(std::string_view text, const std::string& origin) {
  JsonChecker checker(limits().max_json_depth);
  if (!nlohmann::json::sax_parse(text, &checker)) {
    if (checker.depth_exceeded) throw LimitError(origin + ": " + checker.problem);
    throw std::runtime_error(origin + ": " + checker.problem);
  }
  return nlohmann::json::parse(text);
}

std::vector<std::string> top_level_keys(std::string_view text) {
  JsonChecker checker(std::numeric_limits<int>::max());
  nlohmann::json::sax_parse(text, &checker);
  return std::move(checker.top_keys);
}

std::string read_file_limited(const fs::path& path) {
  check_file_size(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot open");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string json_excerpt(const nlohmann::json& value, size_t max_chars) {
  if (value.is_object()) return "an object of " + std::to_string(value.size()) + " keys";
  if (value.is_array()) return "an array of " + std::to_string(value.size()) + " elements";
  std::string text = value.is_string() ? value.get<std::string>().substr(0, max_chars) : value.dump();
  if (value.is_string()) text = nlohmann::json(text).dump();
  if (text.size() > max_chars) text = text.substr(0, max_chars) + "...";
  return text;
}

}  // namespace cephtrace
