// models/MANIFEST.sha256: the sha256 of every model file of a model folder, in the format of
// `sha256sum` (so `cd models && sha256sum -c MANIFEST.sha256` checks it too). The predictor
// checks it at load: a damaged or replaced model file is an error, not a confident wrong answer.
#pragma once

#include <filesystem>
#include <string>

namespace cephtrace {

inline constexpr const char* kModelManifest = "MANIFEST.sha256";

// When `model_dir` has a manifest: every *.onnx and *.json file under it must be listed there with a
// matching sha256 (throws ModelError naming the file; --no-verify skips this). Without a
// manifest (e.g. the published weights, a user's own models) nothing is checked.
void verify_model_manifest(const std::filesystem::path& model_dir);

// The manifest text for the *.onnx and *.json files under `model_dir` (sorted paths, relative to it).
std::string model_manifest_text(const std::filesystem::path& model_dir);

}  // namespace cephtrace
