// Reading cephalograms users have: JPEG, PNG, BMP, TIFF (8/16-bit grey, RGB, RGBA) and DICOM.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace cephtrace {

// Raised for unreadable or unusable images; the message names the source and the problem.
class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr int kMinImageSide = 32;  // smaller images are refused as unusable

struct LoadedImage {
  cv::Mat rgb;   // CV_8UC3, RGB order, native size (Stage 1 path)
  cv::Mat grey;  // CV_8UC1, native size (Stage 0 path: OpenCV's grey decode when from a file)
  // rgb is grey in all three channels (a grey file): the pipeline then resamples grey alone
  // and repeats it, the same pixels for a third of the work. False is always safe.
  bool rgb_is_grey = false;
  std::optional<double> pixel_spacing_mm;  // from DICOM (Pixel Spacing / Imager Pixel Spacing)
  std::string source;
  // Conversions worth telling the user about (16-bit range scaled to 8 bits, alpha
  // dropped, non-square DICOM pixels averaged), one sentence each.
  std::vector<std::string> notes;
};

// Reads an image or DICOM file. Throws ImageError naming `path` on any failure.
LoadedImage load_image(const std::filesystem::path& path);
// Decodes an encoded image (any supported format incl. DICOM) from memory.
LoadedImage decode_image(std::span<const uint8_t> bytes, const std::string& source_name = "<memory>");
// Colour channel order of an in-memory image: OpenCV's BGR(A), or RGB(A) as NumPy/PIL images.
enum class ChannelOrder { BGR, RGB };
// Wraps an already-decoded image (8/16-bit, 1/3/4 channels). Reads `image` and never keeps
// a reference to it (a caller's buffer can be wrapped without copying).
LoadedImage from_mat(const cv::Mat& image, const std::string& source_name = "<memory>",
                     ChannelOrder order = ChannelOrder::BGR);

// File extensions a folder run picks up (lower case, with dot).
bool is_supported_image_extension(const std::filesystem::path& path);

}  // namespace cephtrace
