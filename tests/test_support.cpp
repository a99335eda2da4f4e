#include "test_support.hpp"

#include <cstdlib>
#include <string>
#include <vector>

namespace cephtrace::test {

std::filesystem::path source_dir() { return CEPHTRACE_SOURCE_DIR; }
std::filesystem::path binary_dir() { return CEPHTRACE_BINARY_DIR; }

std::optional<std::filesystem::path> isbi_dir() {
  std::vector<std::filesystem::path> candidates;
  if (const char* env = std::getenv("CEPHTRACE_ISBI_DIR")) candidates.emplace_back(env);
  candidates.push_back(source_dir().parent_path() / "shared" / "data" / "isbi2015");
  for (const auto& c : candidates)
    if (std::filesystem::exists(c / "images" / "001.jpg")) return c;
  return std::nullopt;
}

std::filesystem::path temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = "cephtrace_test";
  if (info) name += std::string("_") + info->test_suite_name() + "_" + info->name();
  auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace cephtrace::test
