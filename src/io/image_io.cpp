#include "cephtrace/image_io.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cephtrace/limits.hpp"
#include "io/dicom.hpp"
#include "io/image_header.hpp"

namespace cephtrace {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& source, const std::string& problem) {
  throw ImageError(source + ": " + problem);
}

void check_size(int64_t width, int64_t height, const std::string& source) {
  if (width < kMinImageSide || height < kMinImageSide)
    fail(source, "image too small (" + std::to_string(width) + "×" + std::to_string(height) +
                     "); at least " + std::to_string(kMinImageSide) + "×" +
                     std::to_string(kMinImageSide) + " needed");
  try {
    check_image_size(width, height, source);  // --max-pixels, --max-aspect-ratio
  } catch (const LimitError& e) {
    throw ImageError(e.what());
  }
}

void check_size(const cv::Mat& m, const std::string& source) { check_size(m.cols, m.rows, source); }

std::string lower_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

// 16-bit radiographs often use only part of the range (e.g. 12 bits), so the actual
// min..max range is stretched to 0..255 rather than taking the high byte, which would
// leave such images nearly black. A constant image becomes all zero.
cv::Mat scale_to_8bit(const cv::Mat& m, std::vector<std::string>& notes) {
  double lo = 0, hi = 0;
  cv::minMaxLoc(m.reshape(1), &lo, &hi);
  const double range = hi - lo;
  const double alpha = range > 0 ? 255.0 / range : 0.0;
  cv::Mat out;
  m.convertTo(out, CV_8U, alpha, -lo * alpha);
  std::ostringstream note;
  note << (m.depth() == CV_16U ? "16-bit" : "non-8-bit") << " image: value range " << lo << ".."
       << hi << " scaled to 0..255";
  notes.push_back(note.str());
  return out;
}

// Whether each of rgb's three channels (CV_8UC3) equals grey (CV_8UC1) at every pixel: a grey
// film stored in colour, as ISBI's JPEGs are. (The grey repeated and compared row by row:
// both vectorised, a few ms for a 5-megapixel film.)
bool repeats_grey(const cv::Mat& rgb, const cv::Mat& grey) {
  cv::Mat repeated;
  cv::cvtColor(grey, repeated, cv::COLOR_GRAY2RGB);
  const size_t row_bytes = static_cast<size_t>(rgb.cols) * 3;
  for (int y = 0; y < rgb.rows; ++y)
    if (std::memcmp(rgb.ptr(y), repeated.ptr(y), row_bytes) != 0) return false;
  return true;
}

cv::Mat imdecode_or_empty(std::span<const uint8_t> bytes, int flags) {
  try {
    const cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8UC1,
                      const_cast<uint8_t*>(bytes.data()));
    return cv::imdecode(buf, flags);
  } catch (const cv::Exception&) {
    return {};  // some decoders throw on corrupt input instead of returning empty
  }
}

}  // namespace

LoadedImage from_mat(const cv::Mat& image, const std::string& source_name, ChannelOrder order) {
  if (image.empty()) fail(source_name, "empty image");
  if (image.depth() != CV_8U && image.depth() != CV_16U)
    fail(source_name, "unsupported pixel type (expected 8- or 16-bit unsigned)");
  const int cn = image.channels();
  if (cn != 1 && cn != 3 && cn != 4)
    fail(source_name, "unsupported channel count " + std::to_string(cn) + " (expected 1, 3 or 4)");
  check_size(image, source_name);

  LoadedImage out;
  out.source = source_name;
  cv::Mat m = image;
  if (cn == 4) {
    cv::cvtColor(m, m, cv::COLOR_BGRA2BGR);  // alpha carries no anatomy (channel order kept)
    out.notes.push_back("alpha channel dropped");
  }
  if (m.depth() != CV_8U) m = scale_to_8bit(m, out.notes);
  if (m.channels() == 1) {
    out.grey = m.clone();
    cv::cvtColor(m, out.rgb, cv::COLOR_GRAY2RGB);
    out.rgb_is_grey = true;
  } else if (order == ChannelOrder::RGB) {
    out.rgb = m.data == image.data ? m.clone() : m;  // never share the caller's buffer
    cv::cvtColor(m, out.grey, cv::COLOR_RGB2GRAY);
  } else {
    cv::cvtColor(m, out.rgb, cv::COLOR_BGR2RGB);
    cv::cvtColor(m, out.grey, cv::COLOR_BGR2GRAY);
  }
  // Equal channels convert to that value exactly (the grey weights sum to one in fixed point).
  if (m.channels() == 3) out.rgb_is_grey = repeats_grey(out.rgb, out.grey);
  return out;
}

LoadedImage decode_image(std::span<const uint8_t> bytes, const std::string& source_name) {
  if (bytes.empty()) fail(source_name, "file is empty (0 bytes)");
  if (detail::has_dicom_magic(bytes) || lower_extension(source_name) == ".dcm") {
    LoadedImage out = detail::decode_dicom(bytes, source_name);
    check_size(out.grey, source_name);
    return out;
  }
  // The header first: an image too large is refused before anything is allocated for it.
  const auto header = detail::read_image_header(bytes);
  if (!header)
    fail(source_name, "not a supported image (JPEG, PNG, BMP, TIFF or DICOM), or the file is corrupt");
  check_size(header->width, header->height, source_name);
  if (header->pages > 1)
    fail(source_name, "multi-page TIFF (" + std::to_string(header->pages) +
                          " pages); give a single-page image (the page to use is not guessed)");
  if (header->format == "JPEG")
    if (const auto why = detail::jpeg_corruption(bytes))
      fail(source_name, "truncated or corrupt JPEG (libjpeg: " + *why + ")");

  // ANYDEPTH keeps 16 bits; ANYCOLOR keeps grey files single-channel and drops alpha.
  // Unlike IMREAD_UNCHANGED this honours the EXIF orientation, as the grey decode does.
  const cv::Mat full = imdecode_or_empty(bytes, cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR);
  if (full.empty())
    fail(source_name, "not a supported image (JPEG, PNG, BMP, TIFF or DICOM), or the file is corrupt");
  LoadedImage out = from_mat(full, source_name);

  // The Stage 0 path uses OpenCV's own grey decode of 8-bit files (spec §3); for a colour
  // JPEG that is libjpeg's luma, which differs slightly from converting the RGB pixels.
  if (full.depth() == CV_8U && full.channels() != 1) {
    cv::Mat grey = imdecode_or_empty(bytes, cv::IMREAD_GRAYSCALE);
    if (grey.size() != out.rgb.size()) fail(source_name, "inconsistent grey decode");
    out.rgb_is_grey = out.rgb_is_grey && cv::norm(grey, out.grey, cv::NORM_INF) == 0;
    out.grey = grey;
  }
  return out;
}

LoadedImage load_image(const fs::path& path) {
  const std::string source = path.string();
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) fail(source, "file not found");
  if (fs::is_directory(status)) fail(source, "is a directory, not an image file");

  std::ifstream in(path, std::ios::binary);
  if (!in) fail(source, "cannot open file (permission denied?)");
  const auto size = fs::file_size(path, ec);
  if (ec) fail(source, "cannot determine the file size (" + ec.message() + ")");
  try {
    check_file_size(path);  // --max-file-mb
  } catch (const LimitError& e) {
    throw ImageError(e.what());
  }
  std::vector<uint8_t> bytes(size);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
    fail(source, "read error");
  return decode_image(bytes, source);
}

bool is_supported_image_extension(const fs::path& path) {
  static const std::array<std::string, 7> kExtensions{".jpg", ".jpeg", ".png", ".bmp",
                                                      ".tif", ".tiff", ".dcm"};
  const std::string ext = lower_extension(path);
  return std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end();
}

}  // namespace cephtrace
