/**
 * Tiny hand-written SUMO nets for tests (here and in sim/). Not named *.test.ts so the test runner
 * does not pick it up as a test file.
 *
 * SMALL_NET: a signalised junction C with approaches from the west (WC) and the south (SC) and exits
 * to the east (CE) and the north (CN); dead ends W, S, E, N around it.
 *   request 0: WC -> CE straight, via :C_0_0
 *   request 1: WC -> CN left, via :C_1_0 then :C_3_0 (an internal junction: the left-turner waits
 *              between them); intLanes lists :C_3_0, the lane after the internal junction
 *   request 2: SC -> CN straight, via :C_2_0
 * Bits are written with link 0 rightmost: request 2 response "001" = yields to link 0.
 */
export const SMALL_NET = `<?xml version="1.0" encoding="UTF-8"?>
<net version="1.9">
    <location netOffset="0.00,0.00" convBoundary="0,0,200,200"/>
    <edge id=":C_0" function="internal">
        <lane id=":C_0_0" index="0" speed="13.00" length="10.00" shape="95,100 105,100"/>
    </edge>
    <edge id=":C_1" function="internal">
        <lane id=":C_1_0" index="0" speed="8.00" length="4.00" shape="95,100 98,101"/>
    </edge>
    <edge id=":C_2" function="internal">
        <lane id=":C_2_0" index="0" speed="12.00" length="10.00" shape="100,95 100,105"/>
    </edge>
    <edge id=":C_3" function="internal">
        <lane id=":C_3_0" index="0" speed="7.00" length="6.00" shape="98,101 100,105"/>
    </edge>
    <edge id=":C_w0" function="walkingarea">
        <lane id=":C_w0_0" index="0" allow="pedestrian" speed="1.00" length="2.00" shape="90,90 91,91"/>
    </edge>
    <edge id="WC" from="W" to="C" priority="2">
        <lane id="WC_0" index="0" speed="13.89" length="95.00" shape="0,100 95,100"/>
    </edge>
    <edge id="SC" from="S" to="C" priority="1">
        <lane id="SC_0" index="0" disallow="bicycle pedestrian" speed="13.89" length="95.00" shape="100,0 100,95"/>
    </edge>
    <edge id="CE" from="C" to="E" priority="2">
        <lane id="CE_0" index="0" speed="13.89" length="95.00" shape="105,100 200,100"/>
    </edge>
    <edge id="CN" from="C" to="N" priority="1">
        <lane id="CN_0" index="0" allow="passenger bus" speed="11.00" length="95.00" shape="100,105 100,200"/>
    </edge>
    <tlLogic id="C" type="static" programID="0" offset="5">
        <phase duration="30" state="GgG"/>
        <phase duration="3"  state="yyy"/>
        <phase duration="20.5" state="rrr"/>
    </tlLogic>
    <junction id="W" type="dead_end" x="0.00" y="100.00" incLanes="" intLanes="" shape="0,101 0,99"/>
    <junction id="S" type="dead_end" x="100.00" y="0.00" incLanes="" intLanes="" shape="99,0 101,0"/>
    <junction id="E" type="dead_end" x="200.00" y="100.00" incLanes="CE_0" intLanes="" shape="200,99 200,101"/>
    <junction id="N" type="dead_end" x="100.00" y="200.00" incLanes="CN_0" intLanes="" shape="99,200 101,200"/>
    <junction id="C" type="traffic_light" x="100.00" y="100.00" incLanes="WC_0 SC_0" intLanes=":C_0_0 :C_3_0 :C_2_0" shape="95,95 105,95 105,105 95,105">
        <request index="0" response="000" foes="100" cont="0"/>
        <request index="1" response="100" foes="100" cont="1"/>
        <request index="2" response="001" foes="011" cont="0"/>
    </junction>
    <junction id=":C_3_0" type="internal" x="98.00" y="101.00" incLanes=":C_1_0 SC_0" intLanes=":C_2_0"/>
    <connection from="WC" to="CE" fromLane="0" toLane="0" via=":C_0_0" tl="C" linkIndex="0" dir="s" state="O"/>
    <connection from="WC" to="CN" fromLane="0" toLane="0" via=":C_1_0" tl="C" linkIndex="1" dir="l" state="o"/>
    <connection from="SC" to="CN" fromLane="0" toLane="0" via=":C_2_0" tl="C" linkIndex="2" dir="s" state="o"/>
    <connection from=":C_0" to="CE" fromLane="0" toLane="0" dir="s" state="M"/>
    <connection from=":C_1" to="CN" fromLane="0" toLane="0" via=":C_3_0" dir="l" state="m"/>
    <connection from=":C_3" to="CN" fromLane="0" toLane="0" dir="l" state="M"/>
    <connection from=":C_2" to="CN" fromLane="0" toLane="0" dir="s" state="M"/>
    <connection from=":C_w0" to="CE" fromLane="0" toLane="0" dir="s" state="M"/>
</net>
`;

/**
 * The same junction without internal lanes (netconvert --no-internal-links): connections have no via,
 * and request indices follow incLanes order (SC_0 before WC_0 here), then file order.
 */
export const NO_INTERNAL_NET = `<net>
    <edge id="WC" from="W" to="C"><lane id="WC_0" index="0" speed="13.89" length="95" shape="0,100 95,100"/></edge>
    <edge id="SC" from="S" to="C"><lane id="SC_0" index="0" speed="13.89" length="95" shape="100,0 100,95"/></edge>
    <edge id="CE" from="C" to="E"><lane id="CE_0" index="0" speed="13.89" length="95" shape="105,100 200,100"/></edge>
    <edge id="CN" from="C" to="N"><lane id="CN_0" index="0" speed="11" length="95" shape="100,105 100,200"/></edge>
    <junction id="W" type="dead_end" x="0" y="100"/>
    <junction id="S" type="dead_end" x="100" y="0"/>
    <junction id="E" type="dead_end" x="200" y="100"/>
    <junction id="N" type="dead_end" x="100" y="200"/>
    <junction id="C" type="priority" x="100" y="100" incLanes="SC_0 WC_0" intLanes="">
        <request index="0" response="000" foes="010" cont="0"/>
        <request index="1" response="001" foes="001" cont="0"/>
        <request index="2" response="000" foes="000" cont="0"/>
    </junction>
    <connection from="WC" to="CE" fromLane="0" toLane="0" dir="s" state="M"/>
    <connection from="WC" to="CN" fromLane="0" toLane="0" dir="l" state="m"/>
    <connection from="SC" to="CN" fromLane="0" toLane="0" dir="s" state="M"/>
</net>
`;
