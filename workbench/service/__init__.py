"""The adapters around the hub: REST and WebSocket handlers (tornado), the Panel server, the CLI.

The framework-free hub they adapt is `workbench.hub`. `server.build_service` builds a service
(hub, source, store, engines) without starting a web server; tornado and Panel are imported
when `racetwin serve` starts one.
"""
