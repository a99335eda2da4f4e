// Input limits: every bound the program puts on what it reads, in one place. Each one can
// be changed from the command line (see add_limit_options in the CLI); the defaults are
// generous for cephalograms and annotation files and small enough that hostile input
// cannot exhaust memory or the stack.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cephtrace {

// Raised when an input exceeds a limit or is outside a validated range; the message names
// the input and the limit (and the option that changes it).
class LimitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Limits {
  int64_t max_pixels = 100'000'000;          // --max-pixels: width × height of one image
  double max_aspect_ratio = 4.0;             // --max-aspect-ratio: long side / short side
  int64_t max_file_bytes = 512LL << 20;      // --max-file-mb: any input file
  int max_json_depth = 64;                   // --max-json-depth: nesting of any JSON input
  int max_bootstrap = 1'000'000;             // --bootstrap is at most this
  int max_threads = 256;                     // --threads is at most this
  double min_pixel_spacing_mm = 0.01;        // plausible detector / film scan range
  double max_pixel_spacing_mm = 2.0;
  double max_coordinate_px = 100'000;        // a landmark coordinate beyond this is garbage
};

// The limits in force (process-wide; the CLI sets them once before any work starts).
Limits& limits();

// Throws LimitError naming `source` when the image would be too large or too elongated.
void check_image_size(int64_t width, int64_t height, const std::string& source);
// Throws LimitError naming `path` when the file is larger than max_file_bytes.
void check_file_size(const std::filesystem::path& path);
// Throws LimitError naming `what` unless max_pixel_spacing_mm >= mm >= min_pixel_spacing_mm
// (NaN and infinities included).
void check_pixel_spacing(double mm, const std::string& what);
// Throws LimitError unless 0 <= n <= max_threads (0 = one per core).
void check_threads(int n);
// Throws LimitError unless 0 <= n <= max_bootstrap.
void check_bootstrap(int n);

// Parses JSON text after a linear pre-pass that refuses nesting deeper than max_json_depth
// and duplicate keys in any object (nlohmann keeps the last one silently). Throws
// LimitError (depth) or std::runtime_error (syntax, duplicates), each naming `origin`.
nlohmann::json parse_json(std::string_view text, const std::string& origin);
// The keys of the top-level object of already-checked `text`, in file order (nlohmann::json
// sorts them; ordered_json would make a large object quadratic to build).
std::vector<std::string> top_level_keys(std::string_view text);
// Reads a whole file (refusing one larger than max_file_bytes); throws std::runtime_error
// naming `path` when it cannot be read.
std::string read_file_limited(const std::filesystem::path& path);

// At most `max_chars` of a JSON value for an error message, without serialising (or
// recursing into) a huge or deep value.
std::string json_excerpt(const nlohmann::json& value, size_t max_chars = 60);

}  // namespace cephtrace
