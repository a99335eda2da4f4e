// The image header reader (PNG, JPEG, BMP, TIFF sizes and pages) and the libjpeg
// corruption check, both of which run on every image before OpenCV decodes it.
#include "cephtrace/limits.hpp"
#include "fuzz_support.hpp"
#include "io/image_header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  const auto header = cephtrace::detail::read_image_header(bytes);
  if (!header || header->format != "JPEG") return 0;
  try {
    cephtrace::check_image_size(header->width, header->height, "fuzz.jpg");  // as decode_image does
  } catch (const cephtrace::LimitError&) {
    return 0;
  }
  cephtrace::detail::jpeg_corruption(bytes);
  return 0;
}
