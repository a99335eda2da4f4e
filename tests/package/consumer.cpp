// A program built on an installed CephTrace: tests/package/install_test.sh builds it once
// with find_package(cephtrace) and once with pkg-config, each of which says where the
// installed models are (MODEL_DIR), and runs it on an image.
#include <cstdio>
#include <exception>
#include <filesystem>

#include <cephtrace/predictor.hpp>
#include <cephtrace/version.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s IMAGE\n", argv[0]);
    return 2;
  }
  try {
    cephtrace::Predictor predictor({.model_dir = MODEL_DIR, .threads = 1});
    const cephtrace::PredictionResult result = predictor.predict(std::filesystem::path(argv[1]));
    std::printf("cephtrace %s, %zu landmarks\n", CEPHTRACE_VERSION_STRING, result.landmarks.size());
    for (const auto& landmark : result.landmarks)
      std::printf("%s %.2f %.2f %s\n", landmark.name.c_str(), landmark.x, landmark.y,
                  landmark.confidence.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
