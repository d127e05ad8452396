import AgentCore
import AgentServer
import HTTPTypes
import Hummingbird
import ServerStore

/// The dashboard's pages on the server's router: `/` (the fleet, `?q=&sort=&desc=1&page=`), `/hosts/<server_id>` and
/// `/alerts`, every asset inline (no script, no outside fetch), under a Content-Security-Policy
/// that allows nothing else to load or run.
public enum DashboardRoutes {
    /// With `users`, every page asks for one of them (HTTP Basic); the ingest routes are the
    /// router's own and stay as they are (signed requests).
    public static func register(on router: Router<ReceiverRequestContext>, store: any PayloadStore,
                                wallClock: @escaping @Sendable () -> Int64, users: DashboardUsers? = nil) {
        let router = router.group()
        if let users { router.add(middleware: SignInGate(users: users)) }
        router.get("/") { request, _ in
            let q = request.uri.queryParameters
            let now = wallClock()
            let query = Pages.fleetQuery(filter: q["q"].map(String.init), sort: q["sort"].map(String.init), descending: q["desc"] == "1",
                                         page: q["page"].map(String.init), now: now)
            return page(Pages.fleet(try await store.fleet(query, now: now), query: query, now: now))
        }
        router.get("/favicon.svg") { _, _ in
            page(Pages.favicon, contentType: "image/svg+xml")
        }
        router.get("/hosts/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            let range = Pages.rangeSeconds(request.uri.queryParameters["range"].map(String.init))
            let now = wallClock()
            let series = try await store.series(serverID: id, since: now - range.seconds, until: now)
            let alerts = try await store.alerts(rule: nil, serverID: id, since: now - range.seconds, limit: 200)
            let activity = try await store.containerActivity(serverID: id)
            let known = series.isEmpty ? try await store.knows(serverID: id) : true
            guard known else {
                return page(Pages.layout(title: "Unknown host", body: "<p>No payload from this server id.</p>"), status: .notFound)
            }
            return page(Pages.host(serverID: id, range: range, now: now, series: series, alerts: alerts,
                                   events: activity.events, logs: activity.logs))
        }
        router.get("/alerts") { request, _ in
            let q = request.uri.queryParameters
            let rule = q["rule"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
            let host = q["host"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
            let range = Pages.rangeSeconds(q["range"].map(String.init))
            let rows = try await store.alerts(rule: rule, serverID: host, since: wallClock() - range.seconds)
            return page(Pages.alerts(rows, rules: AlertRule.allCases.map(\.rawValue), rule: rule, serverID: host, range: range))
        }
    }

    static func page(_ html: String, status: HTTPResponse.Status = .ok, contentType: String = "text/html; charset=utf-8") -> Response {
        var response = uncached(ByteBuffer(string: html), status: status, contentType: contentType)
        response.headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return response
    }

    /// A response no cache keeps: every page and status answer is of the moment.
    static func uncached(_ body: ByteBuffer, status: HTTPResponse.Status, contentType: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}

/// Lets a request through to the dashboard's pages only with the credentials of one of its users;
/// otherwise 401 with the challenge that makes a browser ask for them.
struct SignInGate: RouterMiddleware {
    typealias Context = ReceiverRequestContext
    let users: DashboardUsers

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard await users.user(authorization: request.headers[.authorization]) != nil else {
            var response = DashboardRoutes.page(Pages.layout(title: "Sign in", body: "<p>This dashboard asks for a user and password.</p>"),
                                                status: .unauthorized)
            response.headers[.wwwAuthenticate] = "Basic realm=\"monitoring\", charset=\"UTF-8\""
            return response
        }
        return try await next(request, context)
    }
}
