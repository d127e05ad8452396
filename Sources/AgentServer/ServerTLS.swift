import AgentCore
import AgentPlatform
import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// HTTPS for a receiver: a certificate chain and its private key from PEM files, read again on
/// `reload()` (SIGHUP) so a renewed certificate is served without a restart. Each connection is
/// set up with the context current when it is accepted; connections already open keep theirs. A
/// reload that cannot read or parse the files keeps the context in use.
public final class ServerTLS: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let current: Mutex<(context: NIOSSLContext, notValidAfter: Int64)>

    /// Errors name the flag and the file, never the key's bytes.
    public init(certificatePath: String, keyPath: String) throws(ConfigError) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        current = Mutex(try Self.load(certificatePath: certificatePath, keyPath: keyPath))
    }

    var context: NIOSSLContext { current.withLock { $0.context } }

    /// When the leaf certificate in use expires (unix seconds).
    public var notValidAfter: Int64 { current.withLock { $0.notValidAfter } }

    /// Reads both files again; on success later connections get the new certificate. Returns what
    /// is served now, for the log.
    @discardableResult
    public func reload() throws(ConfigError) -> String {
        let loaded = try Self.load(certificatePath: certificatePath, keyPath: keyPath)
        current.withLock { $0 = loaded }
        return summary
    }

    public var summary: String { "TLS certificate valid until " + RFC3339.format(unixSeconds: notValidAfter) }

    static func load(certificatePath: String, keyPath: String) throws(ConfigError) -> (context: NIOSSLContext, notValidAfter: Int64) {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(try FileOps.readAll(certificatePath))
        } catch {
            throw ConfigError(flag: ServerOptions.tlsCertificate.flag, "cannot read a PEM certificate chain from \(certificatePath)")
        }
        guard let leaf = chain.first else {
            throw ConfigError(flag: ServerOptions.tlsCertificate.flag, "no certificate in \(certificatePath)")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: try FileOps.readAll(keyPath), format: .pem)
        } catch {
            throw ConfigError(flag: ServerOptions.tlsKey.flag, "cannot read a PEM private key from \(keyPath)")
        }
        let configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        do {
            return (try NIOSSLContext(configuration: configuration), Int64(leaf.notValidAfter))
        } catch {
            throw ConfigError(flag: ServerOptions.tlsKey.flag, "the key in \(keyPath) does not match the certificate in \(certificatePath)")
        }
    }
}

/// A child channel that starts with TLS, using the context `tls` holds when the connection is
/// accepted, then hands the decrypted stream to `base`.
struct ReloadableTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let tls: ServerTLS

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension ReloadableTLSChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}
