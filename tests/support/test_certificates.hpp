#pragma once
// Certificates for TLS tests, made in-process with OpenSSL (no `openssl` tool needed): a CA of
// the test's own and a server certificate it signed, as PEM files in a fresh directory that goes
// away with the object. Keys are P-256: fast to make, a few milliseconds for the pair.

#include <string>
#include <vector>

#include "temp_directory.hpp"

namespace tickwire::test {

class TestCertificates {
 public:
  // A CA named `ca_name` and a server certificate for `dns_names` and `ip_addresses` (its
  // subjectAltName), valid from a minute ago for a day. Aborts the test run if OpenSSL fails
  // (nothing a test could go on without).
  explicit TestCertificates(std::vector<std::string> dns_names = {"localhost"},
                            std::vector<std::string> ip_addresses = {"127.0.0.1"},
                            const std::string& ca_name = "Tickwire test CA");
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

  const std::string& ca_file() const { return ca_file_; }        // the CA's certificate
  const std::string& chain_file() const { return chain_file_; }  // the server's, then the CA's
  const std::string& key_file() const { return key_file_; }      // the server's private key
  std::string directory() const { return directory_.string(); }

 private:
  TempDirectory directory_{"tickwire-certs"};
  std::string ca_file_;
  std::string chain_file_;
  std::string key_file_;
};

}  // namespace tickwire::test
