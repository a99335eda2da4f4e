// Small helpers shared by the subcommands.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

namespace cephtrace::cli {

// Writes `data` to `path` through a temporary file in the same folder and a rename, so a
// reader never sees a half-written file. Throws std::runtime_error naming the path.
void write_file_atomic(const std::filesystem::path& path, std::string_view data);
// Encodes an RGB image as PNG and writes it atomically.
void write_png_atomic(const std::filesystem::path& path, const cv::Mat& rgb);

// Supported image files directly inside `dir`, sorted by name. Throws when `dir` is not a
// readable folder.
std::vector<std::filesystem::path> list_images(const std::filesystem::path& dir);

// The model directory to use when the user gave none: $CEPHTRACE_MODEL_DIR, ./models, or
// the models/ folder of the source tree this program was built from.
std::filesystem::path default_model_dir();

}  // namespace cephtrace::cli
