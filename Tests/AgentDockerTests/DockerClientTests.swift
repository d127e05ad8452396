@testable import AgentDocker
import AgentCore
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct DockerClientTests {
    @Test func versionNegotiationNeverPinsAndComparesNumerically() {
        #expect(DockerClient.negotiate(server: "1.41") == "1.41")
        #expect(DockerClient.negotiate(server: "1.9") == "1.9", "1.9 is older than 1.41")
        #expect(DockerClient.negotiate(server: "1.51") == DockerClient.maxAPIVersion, "newer daemons get our newest")
        #expect(DockerClient.negotiate(server: "1.44") == "1.44")
    }

    @Test func probeNamesTheReason() throws {
        let dir = Paths.tempDir("probe")
        #expect(DockerClient.probe(socketPath: dir + "/missing.sock") == "socket missing")
        // A socket file nobody listens on: refused.
        let path = dir + "/dead.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let p = Array(path.utf8)
            raw.copyBytes(from: p)
            raw[p.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(rc == 0)
        close(fd)
        #expect(DockerClient.probe(socketPath: path) == "connection refused")
    }

    @Test func escapesSocketPathsAndQueries() {
        #expect(DockerClient.escape("/var/run/docker.sock") == "%2Fvar%2Frun%2Fdocker%2Esock")
        #expect(DockerClient.escape(#"{"type":["container"]}"#).hasPrefix("%7B%22type%22"))
    }

    /// The real daemon scripts/test.sh started: negotiation from /_ping, listing, inspecting.
    @Test func talksToTheRealDaemon() async throws {
        let sock = try #require(ProcessInfo.processInfo.environment["MA_DOCKER_SOCK"], "MA_DOCKER_SOCK unset: run through scripts/test.sh")
        #expect(DockerClient.probe(socketPath: sock) == nil)
        let client = DockerClient(socketPath: sock)
        let version = try await client.negotiateVersion()
        #expect(version == "1.41", "Debian 12's dockerd 20.10 speaks 1.41")
        let (containers, total) = try await client.runningContainers(version: version, limit: 1000)
        #expect(total == containers.count)
        for c in containers.prefix(3) {
            let inspected = try await client.inspectContainer(c.Id, version: version)
            #expect(inspected.Id == c.Id && inspected.Config?.Image != nil)
        }
        await #expect(throws: DockerError.self) { try await client.inspectContainer("no-such-container-\(getpid())", version: version) }
        await client.shutdown()
    }
}
