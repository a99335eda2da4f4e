#include "pipeline/model_manifest.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "core/onnx_model.hpp"
#include "download/sha256.hpp"

namespace cephtrace {

namespace fs = std::filesystem;

namespace {

// The files the engine loads: ONNX models and JSON calibrations (stage2/confidence.json).
// A subfolder with a manifest of its own is another model folder (models/isbi2015-protocol
// inside the shipped models/): its files are not this folder's.
std::vector<fs::path> model_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    const auto& e = *it;
    if (e.is_directory() && fs::exists(e.path() / kModelManifest)) {
      it.disable_recursion_pending();
      continue;
    }
    if (e.is_regular_file() && (e.path().extension() == ".onnx" || e.path().extension() == ".json"))
      files.push_back(fs::relative(e.path(), dir));
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::string model_manifest_text(const fs::path& model_dir) {
  std::string text;
  for (const auto& rel : model_files(model_dir))
    text += detail::sha256_file_hex(model_dir / rel) + "  " + rel.generic_string() + "\n";
  return text;
}

void verify_model_manifest(const fs::path& model_dir) {
  const fs::path manifest = model_dir / kModelManifest;
  std::ifstream in(manifest);
  if (!in) return;
  std::map<std::string, std::string> listed;  // relative path -> sha256
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string sha, path;
    if (!(fields >> sha >> path)) continue;
    if (!path.empty() && path[0] == '*') path.erase(0, 1);  // sha256sum's binary-mode mark
    if (path.starts_with("./")) path.erase(0, 2);
    listed[path] = sha;
  }
  const std::string override_hint = " (--no-verify loads it anyway, e.g. for your own models)";
  for (const auto& rel : model_files(model_dir)) {
    const auto file = (model_dir / rel).string();
    const auto it = listed.find(rel.generic_string());
    if (it == listed.end())
      throw ModelError(file + ": not listed in " + manifest.string() + override_hint);
    const std::string got = detail::sha256_file_hex(model_dir / rel);
    if (got != it->second)
      throw ModelError(file + ": sha256 " + got + " does not match " + manifest.string() + " (" +
                       it->second + "): the file is damaged or was replaced" + override_hint);
  }
}

}  // namespace cephtrace
