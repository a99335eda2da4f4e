// What an encoded image says about itself before it is decoded: its size (checked against
// the limits before anything is allocated), its page count, and libjpeg's complaints.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace cephtrace::detail {

struct ImageHeader {
  std::string format;  // "JPEG" | "PNG" | "BMP" | "TIFF"
  int64_t width = 0, height = 0;
  int pages = 1;       // TIFF: images in the file (counted up to 1000)
};

// Width and height from the PNG IHDR, the JPEG SOFn, the BMP info header or the first TIFF
// IFD; nullopt when the bytes are none of these formats or the header is cut off.
std::optional<ImageHeader> read_image_header(std::span<const uint8_t> bytes);

// Runs libjpeg's entropy decoder over a JPEG (at 1/8 scale: cheap) and returns its warning
// when the data ends early or hits a marker mid-scan: libjpeg then fills the rest of the
// image with grey and only warns, so OpenCV's decode would succeed on a cut-off file.
std::optional<std::string> jpeg_corruption(std::span<const uint8_t> bytes);

}  // namespace cephtrace::detail
