#pragma once
// Pinned server keys: for each server name, the key it had when the user joined it (trust on
// first use). The file is text, one pin per line, so that a user can read it and delete a line
// when a server's key really changed:
//
//   # comments and blank lines are ignored
//   <64 hex digits: the Ed25519 public key> <the server's name, to the end of the line>

#include <map>
#include <string>
#include <string_view>

#include "tickwire/net/lan_discovery.hpp"
#include "tickwire/net/status.hpp"

namespace tickwire::net::discovery_detail {

class ServerPins {
 public:
  // The pins in a file's text; an error names the line and what is wrong with it.
  static Result<ServerPins> parse(std::string_view text);
  // The pins in the file at `path`; a file that does not exist holds none.
  static Result<ServerPins> load(const std::string& path);

  // The key pinned for `name`, or null.
  const ServerPublicKey* key_for(const std::string& name) const;
  // Pins `key` for `name`. Fails if the name cannot be written on a line (control characters,
  // over 64 bytes) or is pinned to another key already.
  Status add(const std::string& name, const ServerPublicKey& key);
  std::size_t size() const { return pins_.size(); }

  // The file's text, as parse() reads it.
  std::string format() const;
  // Replaces the file at `path` (mode 0600) with format(): written beside it, then renamed, so
  // that a crash leaves the old file or the new one, never half of one.
  Status save(const std::string& path) const;

 private:
  std::map<std::string, ServerPublicKey> pins_;
};

}  // namespace tickwire::net::discovery_detail
