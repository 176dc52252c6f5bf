/**
 * The TraCI constants TessDS speaks, with the values of SUMO 1.15's tools/traci/constants.py (the
 * client's own table; names kept as there). Only what the server implements is listed.
 */

/** SUMO 1.15 reports API version 20 and "SUMO 1.15.0" to getVersion. */
export const TRACI_VERSION = 20;
export const TRACI_VERSION_STRING = 'SUMO 1.15.0';

export const CMD_GETVERSION = 0x00;
export const CMD_LOAD = 0x01;
export const CMD_SIMSTEP = 0x02;
export const CMD_SETORDER = 0x03;
export const CMD_CLOSE = 0x7f;

export const CMD_GET_INDUCTIONLOOP_VARIABLE = 0xa0;
export const CMD_GET_TL_VARIABLE = 0xa2;
export const CMD_SET_TL_VARIABLE = 0xc2;
export const CMD_GET_LANE_VARIABLE = 0xa3;
export const CMD_SET_LANE_VARIABLE = 0xc3;
export const CMD_GET_VEHICLE_VARIABLE = 0xa4;
export const CMD_SET_VEHICLE_VARIABLE = 0xc4;
export const CMD_GET_VEHICLETYPE_VARIABLE = 0xa5;
export const CMD_GET_ROUTE_VARIABLE = 0xa6;
export const CMD_SET_ROUTE_VARIABLE = 0xc6;
export const CMD_GET_JUNCTION_VARIABLE = 0xa9;
export const CMD_GET_EDGE_VARIABLE = 0xaa;
export const CMD_SET_EDGE_VARIABLE = 0xca;
export const CMD_GET_SIM_VARIABLE = 0xab;
export const CMD_SET_SIM_VARIABLE = 0xcb;
/** a get command's response id is the command's + 0x10; a variable subscription's likewise */
export const RESPONSE_OFFSET = 0x10;
/** variable subscriptions: CMD_GET_x_VARIABLE + 0x30 (0xd0..0xdf), responses + 0x40 */
export const SUBSCRIBE_OFFSET = 0x30;
/** context subscriptions: CMD_GET_x_VARIABLE - 0x20 (0x80..0x8f), responses + 0x10 */
export const CONTEXT_OFFSET = 0x20;

export const TYPE_POSITION_2D = 0x01;
export const TYPE_POSITION_3D = 0x03;
export const TYPE_POLYGON = 0x06;
export const TYPE_UBYTE = 0x07;
export const TYPE_BYTE = 0x08;
export const TYPE_INTEGER = 0x09;
export const TYPE_DOUBLE = 0x0b;
export const TYPE_STRING = 0x0c;
export const TYPE_STRINGLIST = 0x0e;
export const TYPE_COMPOUND = 0x0f;
export const TYPE_DOUBLELIST = 0x10;
export const TYPE_COLOR = 0x11;

export const RTYPE_OK = 0x00;
export const RTYPE_NOTIMPLEMENTED = 0x01;
export const RTYPE_ERR = 0xff;

export const INVALID_DOUBLE_VALUE = -1073741824.0;

// variables (shared by the domains, as in constants.py)
export const TRACI_ID_LIST = 0x00;
export const ID_COUNT = 0x01;
export const LAST_STEP_VEHICLE_NUMBER = 0x10;
export const LAST_STEP_MEAN_SPEED = 0x11;
export const LAST_STEP_VEHICLE_ID_LIST = 0x12;
export const LAST_STEP_OCCUPANCY = 0x13;
export const LAST_STEP_VEHICLE_HALTING_NUMBER = 0x14;
export const LAST_STEP_LENGTH = 0x15;
export const VAR_WAITING_TIME_LANE = 0x7a;
export const LANE_EDGE_ID = 0x31;
export const LANE_LINK_NUMBER = 0x30;
export const VAR_LANES = 0x30;

export const TL_RED_YELLOW_GREEN_STATE = 0x20;
export const TL_PHASE_INDEX = 0x22;
export const TL_PROGRAM = 0x23;
export const TL_PHASE_DURATION = 0x24;
export const TL_CONTROLLED_LANES = 0x26;
export const TL_CONTROLLED_LINKS = 0x27;
export const TL_CURRENT_PHASE = 0x28;
export const TL_CURRENT_PROGRAM = 0x29;
export const TL_CONTROLLED_JUNCTIONS = 0x2a;
export const TL_COMPLETE_DEFINITION_RYG = 0x2b;
export const TL_COMPLETE_PROGRAM_RYG = 0x2c;
export const TL_NEXT_SWITCH = 0x2d;

export const VAR_SPEED = 0x40;
export const VAR_MAXSPEED = 0x41;
export const VAR_POSITION = 0x42;
export const VAR_ANGLE = 0x43;
export const VAR_LENGTH = 0x44;
export const VAR_ACCEL = 0x46;
export const VAR_DECEL = 0x47;
export const VAR_VEHICLECLASS = 0x49;
export const VAR_MINGAP = 0x4c;
export const VAR_TYPE = 0x4f;
export const VAR_ROAD_ID = 0x50;
export const VAR_LANE_ID = 0x51;
export const VAR_LANE_INDEX = 0x52;
export const VAR_ROUTE_ID = 0x53;
export const VAR_EDGES = 0x54;
export const VAR_LANEPOSITION = 0x56;
export const VAR_ROUTE = 0x57;
export const VAR_MOVE_TO = 0x5c;
export const VAR_SPEED_FACTOR = 0x5e;
export const VAR_ALLOWED_SPEED = 0xb7;
export const VAR_ROUTE_INDEX = 0x69;
export const VAR_WAITING_TIME = 0x7a;
export const VAR_ACCUMULATED_WAITING_TIME = 0x87;
export const VAR_TIMELOSS = 0x8c;
export const VAR_DISTANCE = 0x84;
export const VAR_PARAMETER = 0x7e;
export const CMD_SLOWDOWN = 0x14;
export const CMD_CHANGETARGET = 0x31;
export const ADD = 0x80;
export const REMOVE = 0x81;
export const ADD_FULL = 0x85;

export const VAR_TIME = 0x66;
export const VAR_TIME_STEP = 0x70;
export const VAR_LOADED_VEHICLES_NUMBER = 0x71;
export const VAR_LOADED_VEHICLES_IDS = 0x72;
export const VAR_DEPARTED_VEHICLES_NUMBER = 0x73;
export const VAR_DEPARTED_VEHICLES_IDS = 0x74;
export const VAR_TELEPORT_STARTING_VEHICLES_NUMBER = 0x75;
export const VAR_TELEPORT_STARTING_VEHICLES_IDS = 0x76;
export const VAR_ARRIVED_VEHICLES_NUMBER = 0x79;
export const VAR_ARRIVED_VEHICLES_IDS = 0x7a;
export const VAR_DELTA_T = 0x7b;
export const VAR_MIN_EXPECTED_VEHICLES = 0x7d;
export const VAR_PENDING_VEHICLES = 0x94;
