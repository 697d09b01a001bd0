// The control API's Unix socket, in the spool directory: the server listens there, joind ctl connects.
export const CONTROL_SOCKET_NAME = 'joind.sock';
