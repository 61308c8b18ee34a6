#include "net/tls_context.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>

#include <boost/asio/ssl/error.hpp>
#include <fstream>

namespace cascade::net {

namespace {

namespace ssl = boost::asio::ssl;

std::string openssl_error(const boost::system::error_code& ec) {
  std::string message = ec.message();
  if (message.empty()) message = "OpenSSL error " + std::to_string(ec.value());
  return message;
}

Status check_readable(const char* what, const std::string& path) {
  if (path.empty()) return make_error("{} is empty", what);
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("{} {}: cannot be read", what, path);
  return {};
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return length > 0 ? std::string(data, static_cast<size_t>(length)) : std::string();
}

}  // namespace

Result<TlsContextPtr> make_server_tls_context(const std::string& cert_file,
                                              const std::string& key_file) {
  if (auto readable = check_readable("certificate file", cert_file); !readable) {
    return readable.error();
  }
  if (auto readable = check_readable("key file", key_file); !readable) return readable.error();
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  // RFC 8996: TLS 1.0 and 1.1 are refused; 1.2 and 1.3 are offered.
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
  // Renegotiation (TLS 1.2) is a client-driven CPU cost with no use here.
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // An idle connection (keep-alive, a held LL-HLS request) gives its record
  // buffers (~34 KiB) back instead of holding them while it waits.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  boost::system::error_code ec;
  context->use_certificate_chain_file(cert_file, ec);
  if (ec) return make_error("certificate file {}: {}", cert_file, openssl_error(ec));
  context->use_private_key_file(key_file, ssl::context::pem, ec);
  // OpenSSL checks the key against the certificate as it loads it (a key of
  // another type is only caught by the explicit check below).
  const bool mismatch =
      ec && ec.category() == boost::asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH;
  if (ec && !mismatch) return make_error("key file {}: {}", key_file, openssl_error(ec));
  if (mismatch || SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return make_error("key file {} does not match the certificate in {}", key_file, cert_file);
  }
  ERR_clear_error();
  return context;
}

std::string describe_certificate(ssl::context& context) {
  X509* cert = SSL_CTX_get0_certificate(context.native_handle());
  if (!cert) return "no certificate";
  std::string subject, serial, not_after;
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
    subject = bio_text(bio);
    BIO_free(bio);
  }
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      serial = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    ASN1_TIME_print(bio, X509_get0_notAfter(cert));
    not_after = bio_text(bio);
    BIO_free(bio);
  }
  return "subject=" + subject + ", serial=" + serial + ", not after=" + not_after;
}

Result<std::shared_ptr<TlsContextStore>> TlsContextStore::open(std::string cert_file,
                                                               std::string key_file) {
  auto context = make_server_tls_context(cert_file, key_file);
  if (!context) return context.error();
  return std::shared_ptr<TlsContextStore>(
      new TlsContextStore(std::move(cert_file), std::move(key_file), std::move(context.value())));
}

TlsContextStore::TlsContextStore(std::string cert_file, std::string key_file, TlsContextPtr context)
    : cert_file_(std::move(cert_file)),
      key_file_(std::move(key_file)),
      context_(std::move(context)) {}

TlsContextPtr TlsContextStore::current() const {
  std::lock_guard lock(mutex_);
  return context_;
}

Status TlsContextStore::reload() {
  // Built outside the lock: reading and parsing files may take a while.
  auto context = make_server_tls_context(cert_file_, key_file_);
  if (!context) return context.error();
  std::lock_guard lock(mutex_);
  context_ = std::move(context.value());
  return {};
}

}  // namespace cascade::net
