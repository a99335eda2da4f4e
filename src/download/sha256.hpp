// SHA-256 (FIPS 180-4) by OpenSSL's libcrypto: checks downloaded weights against the digest
// the hub publishes, and every model file against its folder's MANIFEST.sha256 at each load,
// where libcrypto's assembly is about 3x faster than the portable code it replaced.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>

namespace cephtrace::detail {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex_digest();  // finalises; the object is spent afterwards

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

std::string sha256_hex(std::string_view data);
// Throws std::runtime_error (naming the file) when it cannot be read.
std::string sha256_file_hex(const std::filesystem::path& file);

}  // namespace cephtrace::detail
