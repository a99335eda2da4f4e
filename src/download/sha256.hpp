// A small self-contained SHA-256 (FIPS 180-4), used to check downloaded weights against
// the digest the hub publishes; avoids linking a crypto library for one hash.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace cephtrace::detail {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex_digest();  // finalises; the object is spent afterwards

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_len_ = 0;
};

std::string sha256_hex(std::string_view data);
// Throws std::runtime_error (naming the file) when it cannot be read.
std::string sha256_file_hex(const std::filesystem::path& file);

}  // namespace cephtrace::detail
