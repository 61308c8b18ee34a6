// Server TLS contexts (OpenSSL through Boost.Asio): built from a PEM
// certificate chain and private key, TLS 1.2 and 1.3 only (RFC 8996
// deprecates 1.0 and 1.1), and swapped at run time when the files change.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "core/result.h"
#include "net/transport.h"

namespace cascade::net {

// A server context from `cert_file` (PEM: the leaf first, then any
// intermediates) and `key_file` (PEM private key, unencrypted). Errors name
// the file and the problem: unreadable, not PEM, key not matching the
// certificate.
Result<TlsContextPtr> make_server_tls_context(const std::string& cert_file,
                                              const std::string& key_file);

// "subject=CN=example, serial=0A1B, not after=Jan  1 00:00:00 2030 GMT" of
// the context's certificate, for logs.
std::string describe_certificate(boost::asio::ssl::context& context);

// The current server context for new connections, replaced whole by
// reload(). Thread-safe: current() is called by the listeners' handlers on
// any worker, reload() from the signal thread. Connections keep the context
// they started with (a shared_ptr), so a reload never touches them.
class TlsContextStore {
 public:
  static Result<std::shared_ptr<TlsContextStore>> open(std::string cert_file, std::string key_file);

  TlsContextPtr current() const;
  // Re-reads both files. A new pair that fails to load is rejected (the
  // error says why) and the old context stays in use.
  Status reload();

  const std::string& cert_file() const { return cert_file_; }
  const std::string& key_file() const { return key_file_; }

 private:
  TlsContextStore(std::string cert_file, std::string key_file, TlsContextPtr context);

  const std::string cert_file_;
  const std::string key_file_;
  mutable std::mutex mutex_;  // guards context_ (taken once per new connection)
  TlsContextPtr context_;
};

}  // namespace cascade::net
