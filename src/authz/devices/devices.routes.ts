import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.js';
import { pageSchema } from '../../platform/http/pagination.js';
import { deleteDeviceQuery, deviceParams, deviceSchema, listDevicesQuery, putDeviceBody, reportDeviceBody } from './devices.schemas.js';
import type { DeviceService } from './devices.service.js';

// /v1/devices: posture records pushed by an MDM or EDR integration. Reporting and removing need device.write
// (operators, or a reporter's service-account token with the device-reporting scope), reading device.read.

const tags = ['devices'];

export function registerDeviceRoutes(app: HttpApp, devices: DeviceService): void {
  app.post('/v1/devices', {
    config: { permission: 'device.write', errors: ['principal_not_found'] },
    schema: { tags, summary: 'Report a device\'s posture (creates or replaces its record)', body: reportDeviceBody, response: { 200: deviceSchema, 201: deviceSchema } },
  }, async (req, reply) => { const r = await devices.report(req.actor, req.body); return reply.code(r.created ? 201 : 200).send(r.device); });

  app.put('/v1/devices/:device_id', {
    config: { permission: 'device.write', errors: ['principal_not_found'] },
    schema: { tags, summary: 'Report a device\'s posture by its id (creates or replaces its record)', params: deviceParams, body: putDeviceBody, response: { 200: deviceSchema, 201: deviceSchema } },
  }, async (req, reply) => { const r = await devices.report(req.actor, { ...req.body, device_id: req.params.device_id }); return reply.code(r.created ? 201 : 200).send(r.device); });

  app.get('/v1/devices', {
    config: { permission: 'device.read', errors: ['principal_not_found'] },
    schema: { tags, summary: 'List device records', querystring: listDevicesQuery, response: { 200: pageSchema(deviceSchema) } },
  }, async (req) => devices.list(req.query));

  app.get('/v1/devices/:device_id', {
    config: { permission: 'device.read', errors: ['not_found'] },
    schema: { tags, summary: 'Show a device record', params: deviceParams, response: { 200: deviceSchema } },
  }, async (req) => devices.get(req.params.device_id));

  app.delete('/v1/devices/:device_id', {
    config: { permission: 'device.write', errors: ['not_found'] },
    schema: { tags, summary: 'Remove a device record (its posture is unknown at once)', params: deviceParams, querystring: deleteDeviceQuery, response: { 204: z.null() } },
  }, async (req, reply) => { await devices.remove(req.actor, req.params.device_id, req.query.reason); return reply.code(204).send(null); });
}
