#include "cli_util.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <unistd.h>

#include "cephtrace/image_io.hpp"

namespace cephtrace::cli {

void write_file_atomic(const std::filesystem::path& path, std::string_view data) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(path.string() + ": cannot open for writing");
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) {
      out.close();
      fs::remove(tmp, ec);
      throw std::runtime_error(path.string() + ": write failed (disk full?)");
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw std::runtime_error(path.string() + ": cannot move the finished file into place");
  }
}

void write_png_atomic(const std::filesystem::path& path, const cv::Mat& rgb) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<uchar> png;
  if (!cv::imencode(".png", bgr, png)) throw std::runtime_error(path.string() + ": PNG encoding failed");
  write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

std::vector<std::filesystem::path> list_images(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(dir.string() + ": not a folder");
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec) && is_supported_image_extension(it->path()))
      files.push_back(it->path());
  if (ec) throw std::runtime_error(dir.string() + ": cannot list folder: " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

std::filesystem::path default_model_dir() {
  if (const char* env = std::getenv("CEPHTRACE_MODEL_DIR")) return env;
  std::error_code ec;
  if (std::filesystem::is_directory("models/stage1", ec)) return "models";
#ifdef CEPHTRACE_SOURCE_MODEL_DIR
  return CEPHTRACE_SOURCE_MODEL_DIR;
#else
  return "models";
#endif
}

}  // namespace cephtrace::cli
