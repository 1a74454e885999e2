// Every route under /auth: login, callback, csrf, logout (GET confirmation, POST), logout callback,
// back-channel and front-channel logout.
import { auth } from '../../../lib/auth';

export const { GET, POST } = auth.handlers;
